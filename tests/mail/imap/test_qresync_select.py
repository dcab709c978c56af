"""QRESYNC on the folder side (RFC 7162 3.2.5, 3.2.10, 3.2.11): SELECT/EXAMINE with the
QRESYNC parameter answers what vanished and what changed since the client's modseq,
other sessions' expunges arrive as VANISHED, and [CLOSED] separates two folders."""

from __future__ import annotations

import re

import pytest

from tests.factories import TestOrg, TestUser
from tests.mail.factories import folder_of, make_mail_user

pytestmark = pytest.mark.usefixtures("migrated")


def _enabled(raw, user: TestUser):
    client = raw(user)
    assert client.command(b"e", b"ENABLE QRESYNC")[0] == b"* ENABLED QRESYNC"
    return client


async def _changed_elsewhere(raw, user: TestUser) -> tuple[int, int]:
    """The folder's UIDVALIDITY and modseq as a client cached them, then, in another
    session, UID 2 marked \\Seen and UIDs 4 and 5 expunged."""
    folder = await folder_of(user)
    other = raw(user)
    other.command(b"s", b"SELECT INBOX")
    other.command(b"f", b"UID STORE 2 +FLAGS.SILENT (\\Seen)")
    other.command(b"d", b"UID STORE 4:5 +FLAGS.SILENT (\\Deleted)")
    assert other.command(b"x", b"EXPUNGE")[-1].startswith(b"x OK")
    return folder.uidvalidity, folder.highest_modseq


def _untagged(lines: list[bytes]) -> list[bytes]:
    """The lines after SELECT's last response code: what the resynchronisation added."""
    start = max(i for i, line in enumerate(lines) if line.startswith(b"* OK ["))
    return lines[start + 1 : -1]


async def _resynchronised(raw, user: TestUser, known: bytes = b"", command: bytes = b"SELECT") -> list[bytes]:
    """A client's resynchronising SELECT (or EXAMINE) after :func:`_changed_elsewhere`,
    ``known`` holding its known-uids and seq-match-data."""
    uidvalidity, modseq = await _changed_elsewhere(raw, user)
    return _enabled(raw, user).command(b"s", b"%b INBOX (QRESYNC (%d %d%b))" % (command, uidvalidity, modseq, known))


async def test_qresync_select_reports_vanished_earlier_then_changed_flags(raw, five: TestUser) -> None:
    lines = await _resynchronised(raw, five)
    added = _untagged(lines)
    assert added[0] == b"* VANISHED (EARLIER) 4:5"
    assert re.fullmatch(rb"\* 2 FETCH \(UID 2 FLAGS \(\\Seen\) MODSEQ \(\d+\)\)", added[1]) and len(added) == 2
    assert lines[-1] == b"s OK [READ-WRITE] SELECT completed"


async def test_qresync_examine_resynchronises_read_only(raw, five: TestUser) -> None:
    lines = await _resynchronised(raw, five, command=b"EXAMINE")
    assert _untagged(lines)[0] == b"* VANISHED (EARLIER) 4:5" and lines[-1].startswith(b"s OK [READ-ONLY]")


async def test_qresync_select_known_uids_limit_what_is_reported(raw, five: TestUser) -> None:
    lines = await _resynchronised(raw, five, b" 3:4")
    assert _untagged(lines) == [b"* VANISHED (EARLIER) 4"]  # UID 2 changed, but the client does not know it


async def test_qresync_select_never_names_uids_not_yet_given(raw, five: TestUser) -> None:
    lines = await _resynchronised(raw, five, b" 1:1000")
    assert _untagged(lines)[0] == b"* VANISHED (EARLIER) 4:5"  # UIDNEXT is 6


async def test_qresync_select_with_seq_match_data_is_accepted(raw, five: TestUser) -> None:
    lines = await _resynchronised(raw, five, b" 1:5 (1:3 1:3)")
    assert _untagged(lines)[0] == b"* VANISHED (EARLIER) 4:5" and lines[-1].startswith(b"s OK")


async def test_qresync_select_at_current_modseq_reports_nothing(raw, five: TestUser) -> None:
    folder = await folder_of(five)
    client = _enabled(raw, five)
    lines = client.command(b"s", b"SELECT INBOX (QRESYNC (%d %d))" % (folder.uidvalidity, folder.highest_modseq))
    assert _untagged(lines) == []


async def test_qresync_select_other_uidvalidity_is_a_plain_select(raw, five: TestUser) -> None:
    uidvalidity, modseq = await _changed_elsewhere(raw, five)
    lines = _enabled(raw, five).command(b"s", b"SELECT INBOX (QRESYNC (%d %d))" % (uidvalidity + 1, modseq))
    assert _untagged(lines) == [] and b"* 3 EXISTS" in lines


async def test_qresync_select_without_enable_is_bad(raw, five: TestUser) -> None:
    folder = await folder_of(five)
    client = raw(five)
    client.command(b"s", b"SELECT INBOX")
    lines = client.command(b"t", b"SELECT INBOX (QRESYNC (%d 1))" % folder.uidvalidity)
    assert lines == [b"t BAD QRESYNC is not enabled"]
    assert client.command(b"n", b"NOOP")[-1].startswith(b"n OK")
    assert client.command(b"f", b"FETCH 1 (UID)")[-1].startswith(b"f OK")  # a BAD command closed nothing


@pytest.mark.parametrize(
    "parameter",
    [
        b"(QRESYNC (%d))",  # no modseq
        b"(QRESYNC (%d 1 1:*))",  # "*" in the known UIDs
        b"(QRESYNC (%d 1 1:5 (1:3 1,3)))",  # 3 sequence numbers, 2 UIDs
        b"(QRESYNC (%d 1 1:5 (1:2)))",  # one set of the pair
        b"(QRESYNC (%d x))",
        b"(QRESYNC %d)",
        b"(QRESYNC)",
        b"(FOO)",
    ],
)
async def test_qresync_select_malformed_parameter_is_bad(raw, five: TestUser, parameter: bytes) -> None:
    folder = await folder_of(five)
    client = _enabled(raw, five)
    text = parameter % folder.uidvalidity if b"%d" in parameter else parameter
    assert client.command(b"s", b"SELECT INBOX " + text)[-1].startswith(b"s BAD")


async def test_select_another_folder_sends_closed_first(raw, five: TestUser) -> None:
    client = raw(five)
    assert not any(b"[CLOSED]" in line for line in client.command(b"s", b"SELECT INBOX"))
    lines = client.command(b"t", b"EXAMINE Archive")
    assert lines[0] == b"* OK [CLOSED] Previous mailbox closed" and lines[-1].startswith(b"t OK")


async def test_select_missing_folder_still_closes_the_selected_one(raw, five: TestUser) -> None:
    client = raw(five)
    client.command(b"s", b"SELECT INBOX")
    lines = client.command(b"t", b"SELECT Nowhere")
    assert lines[0] == b"* OK [CLOSED] Previous mailbox closed" and lines[-1].startswith(b"t NO")
    assert client.command(b"f", b"FETCH 1 (UID)")[-1] == b"f BAD No mailbox selected"


async def test_qresync_other_sessions_expunges_arrive_as_vanished(raw, five: TestUser) -> None:
    client = _enabled(raw, five)
    client.command(b"s", b"SELECT INBOX")
    await _changed_elsewhere(raw, five)
    lines = client.command(b"n", b"NOOP")
    assert b"* VANISHED 4:5" in lines and not any(line.endswith(b" EXPUNGE") for line in lines)


async def test_without_qresync_other_sessions_expunges_arrive_as_expunge(raw, five: TestUser) -> None:
    client = raw(five)
    client.command(b"s", b"SELECT INBOX")
    await _changed_elsewhere(raw, five)
    lines = client.command(b"n", b"NOOP")
    assert lines[:2] == [b"* 5 EXPUNGE", b"* 4 EXPUNGE"]


async def test_qresync_select_of_another_users_or_organisations_folder_is_refused(raw, five: TestUser) -> None:
    folder = await folder_of(five)
    colleague = await make_mail_user(TestOrg(id=five.org_id, name="", domain=five.email.split("@")[1]))
    for stranger in (colleague, await make_mail_user()):  # same organisation, another one
        client = _enabled(raw, stranger)
        name = b'"Shared/%b/INBOX"' % five.email.encode()
        lines = client.command(b"s", b"SELECT %b (QRESYNC (%d 1))" % (name, folder.uidvalidity))
        assert lines == [b"s NO [NONEXISTENT] No such mailbox"], lines
