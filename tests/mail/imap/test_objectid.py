"""OBJECTID (RFC 8474): MAILBOXID in SELECT, CREATE, STATUS and LIST-STATUS, kept across
a RENAME; EMAILID kept by COPY and MOVE; THREADID shared by a reply; SEARCH EMAILID and
THREADID; every id an objectid (1 to 255 of A-Z a-z 0-9 _ -)."""

from __future__ import annotations

import re

import pytest

from tests.factories import TestUser
from tests.mail.factories import deliver, make_mail_user, make_message

pytestmark = pytest.mark.usefixtures("migrated")

OBJECTID = rb"[A-Za-z0-9_-]{1,255}"


def _mailbox_id(lines: list[bytes]) -> bytes:
    [found] = [m.group(1) for line in lines if (m := re.search(rb"MAILBOXID \((" + OBJECTID + rb")\)", line))]
    return found


async def test_objectid_mailboxid_is_the_same_in_create_select_status_and_list(raw, user: TestUser) -> None:
    client = raw(user)
    assert b"OBJECTID" in client.command(b"c", b"CAPABILITY")[0].split()
    created = _mailbox_id(client.command(b"a", b"CREATE Projects"))
    assert _mailbox_id(client.command(b"b", b"SELECT Projects")) == created
    assert _mailbox_id(client.command(b"d", b"STATUS Projects (MAILBOXID MESSAGES)")) == created
    listed = client.command(b"e", b'LIST "" "Projects" RETURN (STATUS (MAILBOXID))')
    assert _mailbox_id(listed) == created
    assert _mailbox_id(client.command(b"f", b"EXAMINE INBOX")) != created


async def test_objectid_mailboxid_survives_a_rename(raw, user: TestUser) -> None:
    client = raw(user)
    created = _mailbox_id(client.command(b"a", b"CREATE Old"))
    assert client.command(b"b", b"RENAME Old New")[-1].startswith(b"b OK")
    assert _mailbox_id(client.command(b"c", b"STATUS New (MAILBOXID)")) == created


async def test_objectid_emailid_and_threadid_fetched_with_imapclient(imapclient, user: TestUser) -> None:
    first = make_message(subject="question", message_id="<q@example.net>")
    await deliver(user, first)
    await deliver(user, make_message(subject="Re: question", in_reply_to="<q@example.net>"))
    await deliver(user, make_message(subject="other"))
    client = imapclient(user)
    client.select_folder("INBOX")
    found = client.fetch([1, 2, 3], ["EMAILID", "THREADID"])
    emails = [found[n][b"EMAILID"][0] for n in (1, 2, 3)]
    threads = [found[n][b"THREADID"][0] for n in (1, 2, 3)]
    assert all(re.fullmatch(OBJECTID, value) for value in emails + threads)
    assert len(set(emails)) == 3
    assert threads[0] == threads[1] != threads[2]  # the reply is in the question's thread


async def test_objectid_copy_and_move_keep_emailid(imapclient, user: TestUser) -> None:
    await deliver(user, make_message(subject="kept"))
    client = imapclient(user)
    client.select_folder("INBOX")
    original = client.fetch([1], ["EMAILID"])[1][b"EMAILID"]
    client.copy([1], "Archive")
    client.move([1], "Drafts")
    for folder in ("Archive", "Drafts"):
        client.select_folder(folder)
        assert client.fetch([1], ["EMAILID"])[1][b"EMAILID"] == original, folder


async def test_objectid_search_by_emailid_and_threadid(raw, user: TestUser) -> None:
    await deliver(user, make_message(subject="question", message_id="<q2@example.net>"))
    await deliver(user, make_message(subject="other"))
    await deliver(user, make_message(subject="Re: question", in_reply_to="<q2@example.net>"))
    client = raw(user)
    client.command(b"s", b"SELECT INBOX")
    line = client.command(b"f", b"FETCH 1 (EMAILID THREADID)")[0]
    email, thread = re.findall(rb"\((" + OBJECTID + rb")\)", line)
    assert client.command(b"a", b"SEARCH EMAILID " + email)[0] == b"* SEARCH 1"
    assert client.command(b"b", b"SEARCH THREADID " + thread)[0] == b"* SEARCH 1 3"
    assert client.command(b"c", b"SEARCH OR EMAILID Mnothing THREADID T00")[0] == b"* SEARCH"


async def test_objectid_status_of_another_users_folder_is_refused(raw, user: TestUser) -> None:
    stranger = await make_mail_user()
    lines = raw(stranger).command(b"a", b'STATUS "Shared/%b/INBOX" (MAILBOXID)' % user.email.encode())
    assert lines == [b"a NO [NONEXISTENT] No such mailbox"]
