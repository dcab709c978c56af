"""Data the browser tests look at: a workplace with something on every page, and the
one-time links (password reset, invitation) that the e-mail outbox carries."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

from hexagone.core import notifications
from hexagone.core.db import org_session, system_session
from hexagone.identity import policy  # noqa: F401 - registers the ability rules the services ask
from hexagone.identity.models import OrgRole, SpaceRole, User
from hexagone.identity.oidc.service import register_client
from hexagone.identity.service import groups, spaces, tokens
from hexagone.identity.service.demo import ensure_demo
from tests.conftest import TEST_ENV
from tests.factories import TestOrg, TestSpace, TestUser, emailed, make_org, make_space, make_user, principal, unique

SCREENSHOT_TIME = datetime(2026, 1, 15, 9, 30, tzinfo=UTC)
LINK = re.compile(r"(/(?:password/reset|invitation)/[\w-]+)")


@dataclass
class Workplace:
    org: TestOrg
    admin: TestUser
    member: TestUser
    space: TestSpace
    oidc_client_id: str


async def make_workplace() -> Workplace:
    """An org admin with a colleague, a guest, a shared space, a group, an OpenID
    Connect client, an unread notification and a pending invitation: enough for every
    page to show its lists, not only its empty states."""
    org = await make_org()
    admin = await make_user(org, role=OrgRole.ADMIN)
    member = await make_user(org)
    guest = await make_user(org, role=OrgRole.GUEST)
    space = await make_space(admin)
    async with org_session(org.id) as db:
        # tests.factories.make_space cannot take members yet: its dict is keyed by an
        # unhashable dataclass.
        actor = await principal(admin)
        row = await spaces.get_space(db, actor, space.id)
        await spaces.add_member(db, actor, row, member.id, SpaceRole.MEMBER)
        await spaces.add_member(db, actor, row, guest.id, SpaceRole.READER)
        await groups.add_to_group(db, actor, await groups.create_group(db, actor, name=unique("Group ")), member.id)
        registered = await register_client(
            db,
            actor,
            name=unique("App "),
            redirect_uris=["https://app.example.test/callback"],
            post_logout_redirect_uris=["https://app.example.test/"],
        )
        notifications.post(
            db,
            org_id=org.id,
            user_id=admin.id,
            module="identity",
            title=unique("Welcome "),
            body="A notification with a link.",
            link=f"/spaces/{space.id}",
        )
        await db.commit()
    await invitation_link(admin, space)
    return Workplace(org=org, admin=admin, member=member, space=space, oidc_client_id=registered.client.client_id)


async def invitation_link(inviter: TestUser, space: TestSpace) -> str:
    """The path of a live invitation for a new outside address, as the e-mail gives it."""
    email = f"{unique('invited')}@outside.test"
    async with org_session(inviter.org_id) as db:
        await tokens.invite_guest(db, await principal(inviter), email=email, space_ids=[space.id], base_url="")
        await db.commit()
    return await link_sent_to(email)


async def link_sent_to(email: str) -> str:
    """The one-time link in the latest message queued for ``email``."""
    return await emailed(email, LINK)


async def pin_last_login(user: TestUser) -> None:
    """A fixed "last sign-in" for a screenshot, so that the committed image does not
    change with every run's clock."""
    async with system_session() as db:
        row = await db.get(User, user.id)
        assert row is not None
        row.last_login_at = SCREENSHOT_TIME
        await db.commit()


async def demo_admin() -> TestUser:
    """Alice of the demo organisation, whose names make readable screenshots."""
    async with system_session() as db:
        demo = await ensure_demo(db, TEST_ENV["HEXAGONE_DEMO_PASSWORD"], ["sample"])
        alice = demo.users["alice@demo.hexagone.test"]
        return TestUser(
            id=alice.id,
            org_id=alice.org_id,
            email=alice.email,
            password=TEST_ENV["HEXAGONE_DEMO_PASSWORD"],
            role=OrgRole.ADMIN,
        )
