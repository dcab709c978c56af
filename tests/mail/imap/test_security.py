"""Who reaches which mailbox: never another user's without a grant, never another
organisation's; granted shared mailboxes in the shared namespace, read-only when the
grant says so, gone when it is revoked. A refusal looks exactly like a missing folder."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy import select

from hexagone.core.db import org_session
from hexagone.mail.models import Mailbox
from hexagone.mail.service import mailboxes
from tests.factories import TestOrg, TestUser
from tests.mail.factories import deliver, grant_shared, make_mail_org, make_mail_user, make_message
from tests.mail.imap.conftest import Raw

pytestmark = pytest.mark.usefixtures("migrated")


@dataclass
class World:
    org: TestOrg
    alice: TestUser  # has a writable grant on the shared mailbox
    bob: TestUser  # has a read-only grant
    carol: TestUser  # has none
    mallory: TestUser  # another organisation
    shared: str  # the shared mailbox's address


async def shared_mailbox(org: TestOrg, address: str) -> Mailbox:
    async with org_session(org.id) as db:
        return (await db.execute(select(Mailbox).where(Mailbox.address == address))).scalar_one()


@pytest.fixture(scope="module")
async def world() -> World:
    org = await make_mail_org()
    alice, bob, carol = [await make_mail_user(org) for _ in range(3)]
    mallory = await make_mail_user()
    shared = f"contact@{org.domain}"
    await grant_shared(org, shared, alice, can_write=True)
    await grant_shared(org, shared, bob, can_write=False)
    for person in (alice, bob, carol, mallory):
        await deliver(person, subject=f"private to {person.email}")
    return World(org, alice, bob, carol, mallory, shared)


def refused(client: Raw, command: bytes) -> bool:
    answer = client.command(b"x", command)[-1]
    return answer.startswith((b"x NO [NONEXISTENT]", b"x NO [TRYCREATE]"))


async def test_security_another_users_mailbox_has_no_name(raw, world: World) -> None:
    client = raw(world.carol)
    for owner in (world.alice, world.mallory):
        name = b'"Shared/%b/INBOX"' % owner.email.encode()
        for command in (
            b"SELECT " + name,
            b"EXAMINE " + name,
            b"STATUS " + name + b" (MESSAGES)",
            b"DELETE " + name,
            b"RENAME " + name + b" Mine",
            b"GETQUOTAROOT " + name,
        ):
            assert refused(client, command), command
        client.send(b"a APPEND %b {5+}\r\nhello\r\n" % name)
        assert b"NO [TRYCREATE]" in client.until(b"a")[-1]
    client.command(b"s", b"SELECT INBOX")
    assert refused(client, b'COPY 1 "Shared/%b/INBOX"' % world.alice.email.encode())


async def test_security_listing_shows_only_own_and_granted_folders(raw, world: World) -> None:
    listing = b"\n".join(raw(world.carol).command(b"a", b'LIST "" "*"'))
    assert b"Shared" not in listing and world.alice.email.encode() not in listing
    listing = b"\n".join(raw(world.mallory).command(b"a", b'LIST "" "*"'))
    assert world.org.domain.encode() not in listing


async def test_security_a_grant_opens_the_shared_namespace(raw, world: World) -> None:
    mailbox = await shared_mailbox(world.org, world.shared)
    async with org_session(world.org.id) as db:
        inbox = await mailboxes.folder_by_name(db, mailbox.id, "INBOX")
    client = raw(world.alice)
    lines = client.command(b"a", b'LIST "" "Shared*"')
    assert lines[:2] == [
        b'* LIST (\\Noselect \\HasChildren) "/" "Shared"',
        b'* LIST (\\Noselect \\HasChildren) "/" "Shared/%b"' % world.shared.encode(),
    ]
    assert b'* LIST (\\HasNoChildren) "/" "Shared/%b/INBOX"' % world.shared.encode() in lines
    name = b'"Shared/%b/INBOX"' % world.shared.encode()
    message = make_message(subject="to the team")
    client.send(b"p APPEND %b {%d+}\r\n%b\r\n" % (name, len(message), message))
    assert client.until(b"p")[-1] == b"p OK [APPENDUID %d 1] APPEND completed" % inbox.uidvalidity
    assert client.command(b"s", b"SELECT " + name)[-1] == b"s OK [READ-WRITE] SELECT completed"
    assert client.command(b"f", b"FETCH 1 (BODY.PEEK[HEADER.FIELDS (SUBJECT)])")[1] == b"Subject: to the team\r\n\r\n"
    assert client.command(b"q", b"GETQUOTAROOT " + name)[0] == b'* QUOTAROOT %b "Shared/%b"' % (
        name,
        world.shared.encode(),
    )


async def test_security_a_read_only_grant_reads_but_never_writes(raw, world: World) -> None:
    client = raw(world.bob)
    name = b'"Shared/%b/INBOX"' % world.shared.encode()
    assert client.command(b"s", b"SELECT " + name)[-1] == b"s OK [READ-ONLY] SELECT completed"
    client.send(b"a APPEND %b {5+}\r\nhello\r\n" % name)
    assert b"NO [NOPERM]" in client.until(b"a")[-1]
    assert b"NO [NOPERM]" in client.command(b"c", b'CREATE "Shared/%b/Mine"' % world.shared.encode())[-1]
    assert b"NO [NOPERM]" in client.command(b"d", b'DELETE "Shared/%b/Trash"' % world.shared.encode())[-1]


async def test_security_a_read_only_grant_is_no_target_for_copy_move_or_rename(raw, world: World) -> None:
    client = raw(world.bob)
    shared = world.shared.encode()
    client.command(b"s", b"SELECT INBOX")
    for command in (
        b'COPY 1 "Shared/%b/INBOX"' % shared,
        b'MOVE 1 "Shared/%b/INBOX"' % shared,
        b'RENAME "Shared/%b/Trash" "Shared/%b/Bin"' % (shared, shared),
    ):
        assert client.command(b"x", command)[-1].startswith(b"x NO [NOPERM]"), command
    assert b"* 1 EXISTS" in client.command(b"t", b"SELECT INBOX"), "the refused MOVE left the message"


async def test_security_an_org_admin_has_no_name_for_a_colleagues_mailbox(raw, world: World) -> None:
    admin = await make_mail_user(world.org, role="admin")
    client = raw(admin)
    name = b'"Shared/%b/INBOX"' % world.alice.email.encode()
    assert refused(client, b"EXAMINE " + name)
    assert world.alice.email.encode() not in b"\n".join(client.command(b"l", b'LIST "" "*"'))


async def test_security_a_revoked_grant_closes_the_door(raw, world: World) -> None:
    dave = await make_mail_user(world.org)
    await grant_shared(world.org, world.shared, dave, can_write=True)
    name = b'"Shared/%b/INBOX"' % world.shared.encode()
    client = raw(dave)
    assert client.command(b"s", b"EXAMINE " + name)[-1].startswith(b"s OK")
    mailbox = await shared_mailbox(world.org, world.shared)
    async with org_session(world.org.id, write=True) as db:
        await mailboxes.revoke(db, mailbox, dave.id)
        await db.commit()
    assert refused(client, b"EXAMINE " + name)


async def test_security_names_cannot_climb_out_of_the_namespace(raw, world: World) -> None:
    client = raw(world.carol)
    for name in (
        b'"Shared/"',
        b'"Shared"',
        b'"Shared/%b"' % world.shared.encode(),
        b'"Shared/../INBOX"',
        b'"Shared/%b/../%b/INBOX"' % (world.shared.encode(), world.alice.email.encode()),
    ):
        assert refused(client, b"SELECT " + name), name
