"""Changing messages: APPEND (flags, date, APPENDUID, TRYCREATE, quota), STORE (the three
modes, .SILENT, UNCHANGEDSINCE), COPY and MOVE (COPYUID), EXPUNGE, UID EXPUNGE, CLOSE,
UNSELECT, and the refusals of a read-only (EXAMINE) session."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import update

from hexagone.core.db import system_session
from hexagone.mail.models import Mailbox
from tests.factories import TestUser
from tests.mail.factories import deliver, folder_of, make_message, messages_in
from tests.mail.imap.sessions import selected

pytestmark = pytest.mark.usefixtures("migrated")


@pytest.fixture
async def three(user: TestUser) -> TestUser:
    for n in range(3):
        await deliver(user, subject=f"message {n + 1}")
    return user


async def test_messages_append_with_flags_and_date_answers_appenduid(imapclient, user: TestUser) -> None:
    client = imapclient(user)
    when = datetime(2024, 5, 17, 8, 30, tzinfo=timezone(timedelta(hours=2)))
    answer = client.append("Drafts", make_message(subject="brouillon"), flags=[b"\\Draft", b"$Label1"], msg_time=when)
    inbox_validity = (await folder_of(user, "Drafts")).uidvalidity
    assert answer == b"[APPENDUID %d 1] APPEND completed" % inbox_validity
    [stored] = await messages_in(user, "Drafts")
    assert stored.draft and stored.keywords == ["$Label1"] and stored.internal_date == when.astimezone(UTC)
    client.select_folder("Drafts")
    assert client._imap.fetch("1", "(INTERNALDATE)")[1] == [b'1 (INTERNALDATE "17-May-2024 06:30:00 +0000")']


async def test_messages_append_to_a_missing_folder_says_trycreate(raw, user: TestUser) -> None:
    client = raw(user)
    client.send(b"a APPEND Nowhere {5+}\r\nhello\r\n")
    assert b"NO [TRYCREATE]" in client.until(b"a")[-1]


async def test_messages_append_over_quota_is_refused(raw, user: TestUser) -> None:
    await folder_of(user)
    async with system_session() as db:
        await db.execute(update(Mailbox).where(Mailbox.user_id == user.id).values(quota_bytes=1000))
        await db.commit()
    client = raw(user)
    message = make_message(body="x" * 2000)
    client.send(b"a APPEND INBOX {%d+}\r\n%b\r\n" % (len(message), message))
    assert b"NO [OVERQUOTA]" in client.until(b"a")[-1]
    assert await messages_in(user) == []


async def test_messages_append_bad_flags_and_dates_are_refused(raw, user: TestUser) -> None:
    client = raw(user)
    client.send(b"a APPEND INBOX (\\Bogus) {5+}\r\nhello\r\n")
    assert client.until(b"a")[-1].startswith(b"a BAD")
    client.send(b'b APPEND INBOX "32-Foo-2024 99:00:00 +0000" {5+}\r\nhello\r\n')
    assert client.until(b"b")[-1].startswith(b"b BAD")
    client.send(b"c APPEND INBOX {0+}\r\n\r\n")
    assert client.until(b"c")[-1].startswith(b"c NO")


async def test_messages_store_set_add_remove_and_silent(raw, three: TestUser) -> None:
    client = selected(raw, three)
    assert client.command(b"a", b"STORE 1 +FLAGS (\\Seen $Work)")[2] == b"* 1 FETCH (FLAGS (\\Seen \\Recent $Work))"
    assert client.command(b"b", b"STORE 1 -FLAGS (\\Seen)")[0] == b"* 1 FETCH (FLAGS (\\Recent $Work))"
    assert client.command(b"c", b"STORE 1:2 FLAGS (\\Flagged)")[:2] == [
        b"* 1 FETCH (FLAGS (\\Flagged \\Recent))",
        b"* 2 FETCH (FLAGS (\\Flagged \\Recent))",
    ]
    assert client.command(b"d", b"STORE 3 +FLAGS.SILENT (\\Answered)") == [b"d OK STORE completed"]
    stored = client.command(b"e", b"UID STORE 3 +FLAGS \\Deleted")[0]
    assert stored == b"* 3 FETCH (FLAGS (\\Answered \\Deleted \\Recent) UID 3)"
    flags = {m.uid: (m.seen, m.flagged, m.answered, m.deleted, m.keywords) for m in await messages_in(three)}
    assert flags == {
        1: (False, True, False, False, []),
        2: (False, True, False, False, []),
        3: (False, False, True, True, []),
    }


async def test_messages_store_a_new_keyword_updates_flags(raw, three: TestUser) -> None:
    client = selected(raw, three)
    lines = client.command(b"a", b"STORE 1 +FLAGS ($Projet)")
    assert lines[0].startswith(b"* FLAGS (") and b"$Projet" in lines[0] and b"$Projet \\*)]" in lines[1]


async def test_messages_store_unchangedsince_refuses_changed_messages(raw, three: TestUser) -> None:
    client = raw(three)
    client.command(b"s", b"SELECT INBOX (CONDSTORE)")
    [modseq_line, _] = client.command(b"a", b"FETCH 2 (MODSEQ)")
    modseq = int(modseq_line.split(b"MODSEQ (")[1].split(b")")[0])
    client.command(b"b", b"STORE 2 +FLAGS.SILENT (\\Flagged)")
    lines = client.command(b"c", b"STORE 1:2 (UNCHANGEDSINCE %d) +FLAGS (\\Seen)" % modseq)
    assert lines[-1] == b"c OK [MODIFIED 2] Conditional STORE failed"
    assert lines[0].startswith(b"* 1 FETCH (FLAGS (\\Seen \\Recent) MODSEQ (")
    assert [m.seen for m in await messages_in(three)][:2] == [True, False]


async def test_messages_copy_answers_copyuid_and_keeps_the_source(connect, three: TestUser) -> None:
    client = connect(three)
    client.select("INBOX")
    archive = await folder_of(three, "Archive")
    assert client.copy("1,3", "Archive")[1] == [b"[COPYUID %d 1,3 1:2] COPY completed" % archive.uidvalidity]
    assert len(await messages_in(three)) == 3
    assert [m.subject for m in await messages_in(three, "Archive")] == ["message 1", "message 3"]


async def test_messages_move_expunges_the_source(raw, three: TestUser) -> None:
    client = selected(raw, three)
    trash = await folder_of(three, "Trash")
    lines = client.command(b"a", b"MOVE 2:3 Trash")
    assert lines == [
        b"* OK [COPYUID %d 2:3 1:2] Moved" % trash.uidvalidity,
        b"* 3 EXPUNGE",
        b"* 2 EXPUNGE",
        b"a OK MOVE completed",
    ]
    assert [m.uid for m in await messages_in(three)] == [1]
    # RFC 3501 6.4.7: a target that does not exist answers TRYCREATE, for COPY and MOVE alike
    assert client.command(b"b", b"UID MOVE 1 Nowhere")[-1].startswith(b"b NO [TRYCREATE]")
    assert client.command(b"c", b"COPY 1 Nowhere")[-1].startswith(b"c NO [TRYCREATE]")


async def test_messages_copy_of_nothing_is_fine(raw, three: TestUser) -> None:
    client = selected(raw, three)
    assert client.command(b"a", b"UID COPY 99 Archive")[-1].startswith(b"a OK")


async def test_messages_expunge_removes_deleted_messages(raw, three: TestUser) -> None:
    client = selected(raw, three)
    client.command(b"a", b"STORE 1,3 +FLAGS.SILENT (\\Deleted)")
    assert client.command(b"b", b"EXPUNGE") == [b"* 3 EXPUNGE", b"* 1 EXPUNGE", b"b OK EXPUNGE completed"]
    assert client.command(b"c", b"FETCH 1 (UID)")[0] == b"* 1 FETCH (UID 2)"


async def test_messages_uid_expunge_removes_only_the_named_ones(raw, three: TestUser) -> None:
    client = selected(raw, three)
    client.command(b"a", b"STORE 1:3 +FLAGS.SILENT (\\Deleted)")
    assert client.command(b"b", b"UID EXPUNGE 2") == [b"* 2 EXPUNGE", b"b OK EXPUNGE completed"]
    assert [m.uid for m in await messages_in(three)] == [1, 3]


async def test_messages_close_expunges_and_unselect_does_not(raw, three: TestUser) -> None:
    client = selected(raw, three)
    client.command(b"a", b"STORE 1 +FLAGS.SILENT (\\Deleted)")
    assert client.command(b"b", b"UNSELECT") == [b"b OK UNSELECT completed"]
    assert len(await messages_in(three)) == 3
    client.command(b"c", b"SELECT INBOX")
    assert client.command(b"d", b"CLOSE") == [b"d OK CLOSE completed"]
    assert len(await messages_in(three)) == 2
    assert client.command(b"e", b"FETCH 1 FLAGS")[-1] == b"e BAD No mailbox selected"


async def test_messages_examine_is_read_only(raw, three: TestUser) -> None:
    client = raw(three)
    assert client.command(b"s", b"EXAMINE INBOX")[-1] == b"s OK [READ-ONLY] EXAMINE completed"
    assert b"NO [READ-ONLY]" in client.command(b"a", b"STORE 1 +FLAGS (\\Seen)")[-1]
    assert b"NO [READ-ONLY]" in client.command(b"b", b"EXPUNGE")[-1]
    assert b"NO [READ-ONLY]" in client.command(b"c", b"MOVE 1 Trash")[-1]
    assert client.command(b"d", b"COPY 1 Archive")[-1].startswith(b"d OK")  # copying out is reading
    client.command(b"e", b"CLOSE")  # a read-only CLOSE expunges nothing
    assert len(await messages_in(three)) == 3


async def test_messages_select_reports_the_folder(raw, three: TestUser) -> None:
    await deliver(three, flags=("\\Seen",))
    inbox = await folder_of(three)
    lines = raw(three).command(b"s", b"SELECT INBOX")
    assert lines == [
        b"* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)",
        b"* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft \\*)] Flags permitted",
        b"* 4 EXISTS",
        b"* 4 RECENT",  # the first session to select the folder sees its messages as recent
        b"* OK [UNSEEN 1] First unseen",
        b"* OK [UIDVALIDITY %d] UIDs valid" % inbox.uidvalidity,
        b"* OK [UIDNEXT 5] Predicted next UID",
        b"* OK [HIGHESTMODSEQ %d] Highest" % inbox.highest_modseq,
        b"* OK [MAILBOXID (F%b)] Ok" % inbox.id.hex.encode(),  # RFC 8474
        b"s OK [READ-WRITE] SELECT completed",
    ]


async def test_messages_pipelined_appends_are_stored_together_and_answered_in_order(raw, user: TestUser) -> None:
    client = selected(raw, user)
    pipeline = b""
    for n in range(12):
        message = make_message(subject=f"batch {n}")
        folder = b"Nowhere" if n == 7 else b"INBOX"
        flags = b"(\\Bogus)" if n == 4 else b"(\\Seen)"
        pipeline += b"a%d APPEND %b %b {%d+}\r\n%b\r\n" % (n, folder, flags, len(message), message)
    client.send(pipeline + b"n NOOP\r\n")
    lines = client.until(b"n")
    tagged = [line for line in lines if not line.startswith(b"*")]
    inbox = await folder_of(user)
    expected_uids = iter(range(1, 11))
    for n, line in enumerate(tagged[:12]):
        if n == 4:
            assert line.startswith(b"a4 BAD")
        elif n == 7:
            assert line == b"a7 NO [TRYCREATE] No such mailbox"
        else:
            assert line == b"a%d OK [APPENDUID %d %d] APPEND completed" % (n, inbox.uidvalidity, next(expected_uids))
    assert tagged[12] == b"n OK NOOP completed" and b"* 10 EXISTS" in lines
    stored = await messages_in(user)
    assert [m.subject for m in stored] == [f"batch {n}" for n in range(12) if n not in (4, 7)]
    assert all(m.seen for m in stored)


async def test_messages_a_full_mailbox_refuses_only_what_does_not_fit_in_a_batch(raw, user: TestUser) -> None:
    await folder_of(user)
    message = make_message(body="x" * 3000)
    async with system_session() as db:
        await db.execute(update(Mailbox).where(Mailbox.user_id == user.id).values(quota_bytes=len(message) * 3 + 10))
        await db.commit()
    client = raw(user)
    client.send(b"".join(b"a%d APPEND INBOX {%d+}\r\n%b\r\n" % (n, len(message), message) for n in range(5)))
    answers = [client.until(b"a%d" % n)[-1] for n in range(5)]
    assert [a.split(b" ")[1] for a in answers] == [b"OK", b"OK", b"OK", b"NO", b"NO"]
    assert b"[OVERQUOTA]" in answers[3] and len(await messages_in(user)) == 3
