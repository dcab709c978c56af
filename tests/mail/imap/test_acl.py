"""ACL and MYRIGHTS (RFC 4314) over delegation: rights are the core policy's abilities on
the whole mailbox (owner ``lrwstipekxacd`` as Dovecot spells it, read grant ``lr``, write
grant ``lrwstipekxcd``); only the owner reads or changes them; a SETACL on one folder is
reported for every other folder; what the grants cannot represent is a NO, never a
wider grant. Every command is checked across users and organisations."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy import select

from hexagone.core.db import org_session
from hexagone.mail.models import Mailbox, MailboxGrant
from tests.factories import TestOrg, TestUser
from tests.mail.factories import folder_of, grant_shared, make_mail_org, make_mail_user
from tests.mail.imap.conftest import Raw

pytestmark = pytest.mark.usefixtures("migrated")

OWNER = b"lrwstipekxacd"
WRITE = b"lrwstipekxcd"


@dataclass
class People:
    org: TestOrg
    owner: TestUser
    mate: TestUser  # a colleague the owner delegates to in the tests
    carol: TestUser  # a colleague with no delegation
    outsider: TestUser  # another organisation


@pytest.fixture
async def people() -> People:
    org = await make_mail_org()
    owner, mate, carol = [await make_mail_user(org) for _ in range(3)]
    outsider = await make_mail_user()
    for person in (owner, mate, carol, outsider):
        await folder_of(person)  # their mailboxes exist, as after a first sign-in
    return People(org, owner, mate, carol, outsider)


async def grant_of(owner: TestUser, mate: TestUser) -> MailboxGrant | None:
    async with org_session(owner.org_id) as db:
        mailbox = (await db.execute(select(Mailbox).where(Mailbox.user_id == owner.id))).scalar_one()
        query = select(MailboxGrant).where(MailboxGrant.mailbox_id == mailbox.id, MailboxGrant.user_id == mate.id)
        return (await db.execute(query)).scalar_one_or_none()


def shared_name(owner: TestUser, folder: str = "INBOX") -> bytes:
    return b'"Shared/%b/%b"' % (owner.email.encode(), folder.encode())


def answer(client: Raw, command: bytes) -> bytes:
    return client.command(b"x", command)[-1]


async def test_acl_capability_is_advertised_with_the_rfc_4314_rights(raw, people: People) -> None:
    capability = raw(people.owner).command(b"c", b"CAPABILITY")[0]
    assert b" ACL " in capability and b" RIGHTS=texk" in capability


async def test_acl_myrights_of_the_owner_is_every_right(raw, people: People) -> None:
    client = raw(people.owner)
    assert client.command(b"m", b"MYRIGHTS INBOX")[:-1] == [b'* MYRIGHTS "INBOX" %b' % OWNER]
    assert client.command(b"n", b"MYRIGHTS Later")[0] == b'* MYRIGHTS "Later" %b' % OWNER  # as in Dovecot


async def test_acl_myrights_of_a_grant_follows_it_and_matches_select(raw, people: People) -> None:
    shared = f"accueil@{people.org.domain}"
    await grant_shared(people.org, shared, people.mate, can_write=False)
    await grant_shared(people.org, shared, people.carol, can_write=True)
    name = b'"Shared/%b/INBOX"' % shared.encode()
    reader, writer = raw(people.mate), raw(people.carol)
    assert reader.command(b"m", b"MYRIGHTS " + name)[0] == b"* MYRIGHTS %b lr" % name
    assert answer(reader, b"SELECT " + name) == b"x OK [READ-ONLY] SELECT completed"
    assert writer.command(b"m", b"MYRIGHTS " + name)[0] == b"* MYRIGHTS %b %b" % (name, WRITE)
    assert answer(writer, b"SELECT " + name) == b"x OK [READ-WRITE] SELECT completed"


async def test_acl_getacl_lists_the_owner_and_the_delegates(imapclient, people: People) -> None:
    client = imapclient(people.owner)
    assert client.getacl("INBOX") == [(people.owner.email.encode(), OWNER)]
    client.setacl("Sent", people.mate.email, "lr")
    # a new session: imaplib keeps the untagged ACL responses of the SETACL (one per other
    # folder, RFC 4314 5.1.1) and would give them to the next GETACL
    again = imapclient(people.owner)
    assert again.getacl("INBOX") == [(people.owner.email.encode(), OWNER), (people.mate.email.encode(), b"lr")]


async def test_acl_setacl_grants_reading_then_writing_then_nothing(imapclient, raw, people: People) -> None:
    client = imapclient(people.owner)
    client.setacl("INBOX", people.mate.email, "lr")
    grant = await grant_of(people.owner, people.mate)
    assert grant is not None and not grant.can_write
    assert answer(raw(people.mate), b"SELECT " + shared_name(people.owner)) == b"x OK [READ-ONLY] SELECT completed"
    client.setacl("INBOX", people.mate.email, "+wstipekxcd")
    grant = await grant_of(people.owner, people.mate)
    assert grant is not None and grant.can_write
    assert raw(people.mate).command(b"m", b"MYRIGHTS " + shared_name(people.owner))[0].endswith(b" " + WRITE)
    raw(people.owner).command(b"s", b'SETACL INBOX "%b" ""' % people.mate.email.encode())  # imaplib cannot send ""
    assert await grant_of(people.owner, people.mate) is None
    assert answer(raw(people.mate), b"SELECT " + shared_name(people.owner)).startswith(b"x NO [NONEXISTENT]")


async def test_acl_setacl_on_one_folder_reports_the_change_on_every_other(raw, people: People) -> None:
    lines = raw(people.owner).command(b"s", b'SETACL Sent "%b" lr' % people.mate.email.encode())
    assert lines[-1] == b"s OK SETACL completed"
    reported = sorted(line.split(b'"')[1] for line in lines[:-1])
    assert reported == [b"Archive", b"Drafts", b"INBOX", b"Junk", b"Trash"]
    assert lines[0].endswith(b" %b %b %b lr" % (people.owner.email.encode(), OWNER, people.mate.email.encode()))


async def test_acl_setacl_keeps_send_as(raw, people: People) -> None:
    async with org_session(people.org.id, write=True) as db:
        mailbox = (await db.execute(select(Mailbox).where(Mailbox.user_id == people.owner.id))).scalar_one()
        db.add(MailboxGrant(mailbox_id=mailbox.id, user_id=people.mate.id, can_write=False, can_send_as=True))
        await db.commit()
    raw(people.owner).command(b"s", b'SETACL INBOX "%b" %b' % (people.mate.email.encode(), WRITE))
    grant = await grant_of(people.owner, people.mate)
    assert grant is not None and grant.can_write and grant.can_send_as


@pytest.mark.parametrize(
    "rights",
    [b"lrs", b"lrw", b"r", b"wstipekxcd", b"lra", b"lrwstipekxacd", b"+s", b"lrk", b"lrc"],
)
async def test_acl_setacl_of_rights_the_grants_cannot_hold_is_refused(raw, people: People, rights: bytes) -> None:
    reply = answer(raw(people.owner), b'SETACL INBOX "%b" %b' % (people.mate.email.encode(), rights))
    assert reply.startswith(b"x NO [CANNOT]"), reply
    assert await grant_of(people.owner, people.mate) is None


async def test_acl_setacl_removing_part_of_a_set_is_refused_and_keeps_the_grant(raw, people: People) -> None:
    client = raw(people.owner)
    client.command(b"s", b'SETACL INBOX "%b" %b' % (people.mate.email.encode(), WRITE))
    assert answer(client, b'SETACL INBOX "%b" -w' % people.mate.email.encode()).startswith(b"x NO [CANNOT]")
    assert answer(client, b'SETACL INBOX "%b" -wstipekxcd' % people.mate.email.encode()) == b"x OK SETACL completed"
    grant = await grant_of(people.owner, people.mate)
    assert grant is not None and not grant.can_write


async def test_acl_setacl_refuses_identifiers_that_are_not_colleagues(raw, people: People) -> None:
    client = raw(people.owner)
    for identifier in (b"anyone", b"authenticated", b"-" + people.mate.email.encode(), people.outsider.email.encode()):
        assert answer(client, b'SETACL INBOX "%b" lr' % identifier).startswith(b"x NO [CANNOT]"), identifier
    assert answer(client, b'SETACL INBOX "%b" lr' % people.owner.email.encode()).startswith(b"x NO [CANNOT]")
    assert answer(client, b'DELETEACL INBOX "%b"' % people.owner.email.encode()).startswith(b"x NO [CANNOT]")


async def test_acl_unknown_rights_and_empty_identifiers_are_bad(raw, people: People) -> None:
    client = raw(people.owner)
    for command in (
        b'SETACL INBOX "%b" lrQ' % people.mate.email.encode(),
        b'SETACL INBOX "%b" lrz' % people.mate.email.encode(),
        b'SETACL INBOX "" lr',
        b'DELETEACL INBOX ""',
        b'LISTRIGHTS INBOX ""',
        b"GETACL",
        b"MYRIGHTS INBOX extra",
    ):
        assert answer(client, command).startswith(b"x BAD"), command


async def test_acl_deleteacl_removes_a_delegate_and_ignores_others(raw, people: People) -> None:
    client = raw(people.owner)
    client.command(b"s", b'SETACL INBOX "%b" lr' % people.mate.email.encode())
    lines = client.command(b"d", b'DELETEACL INBOX "%b"' % people.mate.email.encode())
    assert lines[-1] == b"d OK DELETEACL completed" and len(lines) == 6
    assert await grant_of(people.owner, people.mate) is None
    assert answer(client, b'DELETEACL INBOX "%b"' % people.carol.email.encode()) == b"x OK DELETEACL completed"
    assert answer(client, b'DELETEACL INBOX "%b"' % people.outsider.email.encode()) == b"x OK DELETEACL completed"


async def test_acl_listrights_names_the_sets_that_can_be_given(raw, people: People) -> None:
    client = raw(people.owner)
    for identifier, sets in (
        (people.owner.email.encode(), OWNER),
        (people.mate.email.encode(), b'"" lr wstipekxcd'),
        (people.outsider.email.encode(), b'""'),
        (b"anyone", b'""'),
    ):
        lines = client.command(b"l", b'LISTRIGHTS INBOX "%b"' % identifier)
        assert lines == [b'* LISTRIGHTS "INBOX" %b %b' % (identifier, sets), b"l OK LISTRIGHTS completed"]


async def test_acl_a_delegate_sees_its_rights_but_never_the_acl(raw, people: People) -> None:
    raw(people.owner).command(b"s", b'SETACL INBOX "%b" %b' % (people.mate.email.encode(), WRITE))
    client = raw(people.mate)
    name = shared_name(people.owner)
    assert client.command(b"m", b"MYRIGHTS " + name)[0] == b"* MYRIGHTS %b %b" % (name, WRITE)
    for command in (
        b"GETACL " + name,
        b'LISTRIGHTS %b "%b"' % (name, people.mate.email.encode()),
        b'SETACL %b "%b" lrwstipekxacd' % (name, people.mate.email.encode()),
        b'SETACL %b "%b" lr' % (name, people.carol.email.encode()),
        b'DELETEACL %b "%b"' % (name, people.mate.email.encode()),
    ):
        assert answer(client, command).startswith(b"x NO [NOPERM]"), command
    grant = await grant_of(people.owner, people.mate)
    assert grant is not None and grant.can_write and await grant_of(people.owner, people.carol) is None


async def test_acl_of_a_mailbox_one_cannot_see_looks_like_nothing(raw, people: People) -> None:
    for stranger in (people.carol, people.outsider):
        client = raw(stranger)
        for target in (people.owner, people.outsider if stranger is people.carol else people.carol):
            name = shared_name(target)
            for command in (
                b"MYRIGHTS " + name,
                b"GETACL " + name,
                b'LISTRIGHTS %b "%b"' % (name, stranger.email.encode()),
                b'SETACL %b "%b" lr' % (name, stranger.email.encode()),
                b'DELETEACL %b "%b"' % (name, target.email.encode()),
            ):
                assert answer(client, command).startswith(b"x NO [NONEXISTENT]"), command
    assert await grant_of(people.owner, people.carol) is None


async def test_acl_of_a_shared_mailbox_is_the_administrators_not_its_members(raw, people: People) -> None:
    shared = f"accueil@{people.org.domain}"
    admin = await make_mail_user(people.org, role="admin")
    await grant_shared(people.org, shared, admin, can_write=True)
    name = b'"Shared/%b/INBOX"' % shared.encode()
    client = raw(admin)
    assert client.command(b"m", b"MYRIGHTS " + name)[0] == b"* MYRIGHTS %b %b" % (name, WRITE)
    assert answer(client, b"GETACL " + name).startswith(b"x NO [NOPERM]")
    assert answer(client, b'SETACL %b "%b" lr' % (name, people.mate.email.encode())).startswith(b"x NO [NOPERM]")


async def test_acl_getacl_of_a_missing_folder_is_nonexistent(raw, people: People) -> None:
    assert answer(raw(people.owner), b"GETACL Nope").startswith(b"x NO [NONEXISTENT]")


async def test_acl_commands_need_a_signed_in_session(raw, people: People) -> None:
    client = raw()
    for command in (b"MYRIGHTS INBOX", b"GETACL INBOX", b"LISTRIGHTS INBOX anyone", b"SETACL INBOX anyone lr"):
        assert answer(client, command).startswith(b"x BAD"), command
