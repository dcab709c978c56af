"""Mail's rule in the core policy: who may do what with a mailbox, judged on the access
the service loads, against the real database.

The mailbox is a user's own, delegated to colleagues with different grants. Only its owner
and its delegates see it; an org admin reads nobody's mail; a guest has no mailbox; a user
of another organisation finds nothing.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import pytest

import hexagone.mail.policy  # noqa: F401 - the rules under test
from hexagone.core import policy
from hexagone.core.db import org_session
from hexagone.core.exceptions import Forbidden, NotFound
from hexagone.identity.service import person
from hexagone.mail.service import mailboxes, reading
from tests.factories import TestUser, make_user, principal
from tests.mail.factories import make_mail_org, make_mail_user

pytestmark = pytest.mark.usefixtures("migrated")

ABILITIES = ("view", "write", "send_as", "manage")
EXPECTED = {
    "owner": {"view", "write", "send_as", "manage"},
    "delegate_read_only": {"view"},
    "delegate_with_write": {"view", "write"},
    "delegate_with_send_as": {"view", "send_as"},
    "colleague": set(),
    "guest": set(),
    "org_admin": set(),
    "other_org_user": set(),
}
GRANTS = {  # (can_write, can_send_as)
    "delegate_read_only": (False, False),
    "delegate_with_write": (True, False),
    "delegate_with_send_as": (False, True),
}


@dataclass
class Scene:
    mailbox_id: uuid.UUID
    callers: dict[str, TestUser]


@pytest.fixture
async def scene() -> Scene:
    org = await make_mail_org()
    owner = await make_user(org)
    callers = {
        "owner": owner,
        **{kind: await make_user(org) for kind in GRANTS},
        "colleague": await make_user(org),
        "guest": await make_user(org, role="guest"),
        "org_admin": await make_user(org, role="admin"),
        "other_org_user": await make_mail_user(),
    }
    async with org_session(org.id) as db:
        owner_person = await person(db, owner.id)
        assert owner_person is not None
        mailbox = await mailboxes.user_mailbox(db, owner_person)
        for kind, (can_write, can_send_as) in GRANTS.items():
            await mailboxes.grant(db, mailbox, callers[kind].id, can_write=can_write, can_send_as=can_send_as)
        await db.commit()
        return Scene(mailbox.id, callers)


async def granted(user: TestUser, mailbox_id: uuid.UUID) -> set[str]:
    """What ``user`` may do with the mailbox, as a page or the API learns it: the access the
    service loads for them, judged by the core policy (nothing when it is not found)."""
    signed_in = await principal(user)
    async with org_session(user.org_id) as db:
        viewer = await person(db, user.id)
        assert viewer is not None
        try:
            access = await reading.mailbox_for(db, signed_in, viewer, mailbox_id)
        except NotFound:
            return set()
        return {ability for ability, allowed in policy.abilities(signed_in, access).items() if allowed}


@pytest.mark.parametrize("kind", list(EXPECTED))
async def test_mailbox_abilities_by_caller_kind_match_the_grant(scene: Scene, kind: str) -> None:
    assert await granted(scene.callers[kind], scene.mailbox_id) == EXPECTED[kind]


@pytest.mark.parametrize("kind", list(EXPECTED))
@pytest.mark.parametrize("ability", ABILITIES)
async def test_require_on_a_mailbox_refuses_what_the_grant_does_not_give(scene: Scene, kind: str, ability: str) -> None:
    """Allowed: no error; seen but not allowed: Forbidden; not seen at all: NotFound, as
    for a mailbox that does not exist."""
    user = scene.callers[kind]
    signed_in = await principal(user)
    async with org_session(user.org_id) as db:
        viewer = await person(db, user.id)
        assert viewer is not None
        if "view" not in EXPECTED[kind]:
            with pytest.raises(NotFound):
                await reading.mailbox_for(db, signed_in, viewer, scene.mailbox_id)
            return
        access = await reading.mailbox_for(db, signed_in, viewer, scene.mailbox_id)
        if ability in EXPECTED[kind]:
            policy.require(signed_in, access, ability, "refused")
        else:
            with pytest.raises(Forbidden):
                policy.require(signed_in, access, ability, "refused")


@pytest.mark.parametrize("kind", [k for k in EXPECTED if k != "owner"])
async def test_owner_access_grants_nothing_to_another_principal(scene: Scene, kind: str) -> None:
    """An access is its user's: handed to anyone else (an admin, a delegate, another
    organisation's user), it gives nothing."""
    owner = scene.callers["owner"]
    async with org_session(owner.org_id) as db:
        owner_person = await person(db, owner.id)
        assert owner_person is not None
        access = await mailboxes.access_to(db, owner_person, scene.mailbox_id)
    assert not any(policy.abilities(await principal(scene.callers[kind]), access).values())
