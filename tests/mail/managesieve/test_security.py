"""Whose scripts a session reaches: only the signed-in user's own. A colleague, an
administrator of the same organisation and a user of another organisation get
NONEXISTENT for every name of another's, list none of them, and their own scripts of
the same name change nothing of the owner's."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from hexagone.core.config import get_settings
from hexagone.identity.models import OrgRole
from tests.factories import TestUser
from tests.mail.factories import make_mail_org, make_mail_user
from tests.mail.managesieve.test_scripts import stored

pytestmark = pytest.mark.usefixtures("migrated")

OWNER_SCRIPT = 'require "fileinto"; fileinto "Secret";'


@dataclass
class World:
    owner: TestUser
    colleague: TestUser
    admin: TestUser
    outsider: TestUser

    def others(self) -> list[TestUser]:
        return [self.colleague, self.admin, self.outsider]


@pytest.fixture
async def world(connect) -> World:
    org = await make_mail_org()
    found = World(
        owner=await make_mail_user(org),
        colleague=await make_mail_user(org),
        admin=await make_mail_user(org, role=OrgRole.ADMIN),
        outsider=await make_mail_user(),
    )
    client = connect(found.owner)
    assert client.putscript("privé", OWNER_SCRIPT) == "OK"
    assert client.putscript("brouillon", "keep;") == "OK"
    assert client.setactive("privé") == "OK"
    return found


OWNER_STATE = {"privé": (OWNER_SCRIPT, True), "brouillon": ("keep;", False)}


async def test_security_others_list_none_of_the_owners_scripts(connect, world: World) -> None:
    for other in world.others():
        assert connect(other).listscripts() == ("OK", []), other.role


async def test_security_others_get_nonexistent_for_every_command_on_the_owners_names(connect, world: World) -> None:
    for other in world.others():
        client = connect(other)
        outcomes = [
            client.getscript("privé")[0],
            client.setactive("brouillon"),
            client.deletescript("brouillon"),
        ]
        assert outcomes == ["NO"] * 3 and client.response_code == "NONEXISTENT"
    assert await stored(world.owner) == OWNER_STATE


async def test_security_others_cannot_rename_the_owners_scripts(raw, world: World) -> None:
    for other in world.others():
        client = raw(other)
        assert client.final(b'RENAMESCRIPT "brouillon" "vole"').startswith(b"NO (NONEXISTENT)")
    assert await stored(world.owner) == OWNER_STATE


async def test_security_same_name_scripts_of_others_are_their_own(connect, world: World) -> None:
    for other in world.others():
        client = connect(other)
        assert client.putscript("privé", "discard;") == "OK"
        assert client.setactive("privé") == "OK"
        assert client.setactive("") == "OK"
        assert client.deletescript("privé") == "OK"
    assert await stored(world.owner) == OWNER_STATE


async def test_security_quota_counts_only_the_users_own_scripts(connect, world: World) -> None:
    owner = connect(world.owner)
    for n in range(get_settings().mail_sieve_max_scripts - len(OWNER_STATE)):
        assert owner.putscript(f"s{n}", "keep;") == "OK"
    assert owner.havespace("one more", 10) == "NO"
    colleague = connect(world.colleague)
    assert colleague.havespace("one more", 10) == "OK"
    assert colleague.putscript("one more", "keep;") == "OK"
