"""SEARCH: every RFC 3501 key on a small mailbox whose answer is known, sequence sets and
UID sets, NOT/OR and groups, CHARSET, MODSEQ, ESEARCH, and bad criteria."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from tests.conftest import Server
from tests.factories import TestUser
from tests.mail.factories import deliver, make_mail_user, make_message
from tests.mail.imap.conftest import Raw
from tests.mail.imap.sessions import ok, selected, signed_in

pytestmark = pytest.mark.usefixtures("migrated")

FIRST = make_message(
    sender="Alice Martin <alice@example.org>",
    to="bob@example.org",
    subject="Budget 2025",
    body="Le budget est validé.\n",
    date=datetime(2025, 1, 10, 9, 0, tzinfo=UTC),
)
SECOND = (
    b"From: Claire <claire@prefecture.example>\r\nTo: bob@example.org\r\nCc: dana@example.org\r\n"
    b"Bcc: eve@example.org\r\nSubject: =?utf-8?q?R=C3=A9union?=\r\nDate: Sat, 15 Feb 2025 10:00:00 +0000\r\n"
    b"X-Priority: 1 (Highest)\r\n\r\n" + b"Ordre du jour: hexabench.\r\n" * 200
)
THIRD = make_message(
    sender="alice@example.org",
    to="carol@example.org",
    subject="Invoice",
    body="Please pay.\n",
    date=datetime(2025, 3, 1, 12, 0, tzinfo=UTC),
)


@pytest.fixture(scope="module")
async def mailbox() -> TestUser:
    """Three messages: 1 seen+answered, 2 flagged+$Urgent+draft, 3 deleted."""
    owner = await make_mail_user()
    await deliver(owner, FIRST, flags=("\\Seen", "\\Answered"))
    await deliver(owner, SECOND, flags=("\\Flagged", "$Urgent", "\\Draft"))
    await deliver(owner, THIRD, flags=("\\Deleted",))
    return owner


@pytest.fixture(scope="module")
def client(server: Server, mailbox: TestUser) -> Iterator[Raw]:
    """One read-only session for all the cases (signing in costs an argon2 hash)."""
    with signed_in(server, mailbox) as opened:
        ok(opened, b"s", b"EXAMINE INBOX")
        yield opened


def search(client: Raw, criteria: bytes, *, uid: bool = False) -> list[int]:
    lines = client.command(b"q", (b"UID SEARCH " if uid else b"SEARCH ") + criteria)
    assert lines[-1].startswith(b"q OK"), lines
    [result] = [line for line in lines if line.startswith(b"* SEARCH")]
    return [int(n) for n in result.split()[2:] if n.isdigit()]


CASES = [
    (b"ALL", [1, 2, 3]),
    (b"ANSWERED", [1]),
    (b"UNANSWERED", [2, 3]),
    (b"DELETED", [3]),
    (b"UNDELETED", [1, 2]),
    (b"DRAFT", [2]),
    (b"UNDRAFT", [1, 3]),
    (b"FLAGGED", [2]),
    (b"UNFLAGGED", [1, 3]),
    (b"SEEN", [1]),
    (b"UNSEEN", [2, 3]),
    (b"KEYWORD $Urgent", [2]),
    (b"KEYWORD $urgent", [2]),
    (b"UNKEYWORD $Urgent", [1, 3]),
    (b"FROM alice", [1, 3]),
    (b'FROM "Alice Martin"', [1]),
    (b"TO carol", [3]),
    (b"CC dana", [2]),
    (b"BCC eve", [2]),
    (b"SUBJECT budget", [1]),
    (b'SUBJECT "r\xc3\xa9union"', [2]),
    (b"BODY hexabench", [2]),
    (b'BODY "VALID\xc3\xa9"', [1]),
    (b"TEXT hexabench", [2]),
    (b"TEXT Priority", [2]),
    (b"TEXT invoice", [3]),
    (b"HEADER X-Priority Highest", [2]),
    (b'HEADER X-Priority ""', [2]),
    (b"HEADER Subject union", [2]),
    (b"SENTBEFORE 15-Feb-2025", [1]),
    (b"SENTON 15-Feb-2025", [2]),
    (b"SENTSINCE 15-Feb-2025", [2, 3]),
    (b"LARGER 2000", [2]),
    (b"SMALLER 2000", [1, 3]),
    (b"NOT SEEN", [2, 3]),
    (b"OR SEEN FLAGGED", [1, 2]),
    (b"OR TEXT Priority SEEN", [1, 2]),
    (b"NOT TEXT Priority", [1, 3]),
    (b"(FROM alice UNSEEN)", [3]),
    (b"2:3", [2, 3]),
    (b"1,3", [1, 3]),
    (b"*", [3]),
    (b"UID 2:*", [2, 3]),
    (b"NOT UID 2", [1, 3]),
    (b"SEEN FROM alice", [1]),
    (b"OR (SEEN ANSWERED) DELETED", [1, 3]),
    (b"MODSEQ 1", [1, 2, 3]),
    (b"RECENT", [1, 2, 3]),  # this session is the first to open the folder (RFC 3501 2.3.2)
    (b"NEW", [2, 3]),
    (b"OLD", []),
    (b"9:10", []),
]


@pytest.mark.parametrize(("criteria", "expected"), CASES, ids=[c.decode("utf-8") for c, _ in CASES])
async def test_search_key_finds_the_expected_messages(client: Raw, criteria: bytes, expected: list[int]) -> None:
    if b"\xc3" in criteria:
        criteria = b"CHARSET UTF-8 " + criteria
    assert search(client, criteria) == expected


async def test_search_internal_dates(raw) -> None:
    owner = await make_mail_user()
    await deliver(owner)
    client = selected(raw, owner)
    today = datetime.now(UTC).strftime("%d-%b-%Y").encode()
    assert search(client, b"ON " + today) == [1] and search(client, b"SINCE " + today) == [1]
    assert search(client, b"BEFORE " + today) == [] and search(client, b"BEFORE 1-Jan-2100") == [1]


async def test_search_uid_answers_with_uids(client: Raw, mailbox: TestUser) -> None:
    assert search(client, b"UNSEEN", uid=True) == [2, 3]


async def test_search_charset_and_literal_strings(client: Raw) -> None:
    client.send(b"a SEARCH CHARSET UTF-8 SUBJECT {8}\r\n")
    assert client.line().startswith(b"+ ")
    client.send(b"r\xc3\xa9union\r\n")
    assert client.until(b"a")[0] == b"* SEARCH 2"
    assert b"NO [BADCHARSET" in client.command(b"b", b"SEARCH CHARSET KOI8-R SUBJECT x")[-1]
    assert b"NO [BADCHARSET" in client.command(b"c", b"SEARCH SUBJECT {2}\r\n\xc3\xa9")[-1]


async def test_search_modseq_reports_the_highest(client: Raw) -> None:
    line = client.command(b"a", b"SEARCH MODSEQ 1")[0]
    assert line.startswith(b"* SEARCH 1 2 3 (MODSEQ ") and line.endswith(b")")


async def test_search_esearch_return_options(client: Raw) -> None:
    lines = client.command(b"a", b"SEARCH RETURN (MIN MAX COUNT ALL) UNDELETED")
    assert lines[0] == b'* ESEARCH (TAG "a") MIN 1 MAX 2 COUNT 2 ALL 1:2'
    lines = client.command(b"b", b"UID SEARCH RETURN () ALL")
    assert lines[0] == b'* ESEARCH (TAG "b") UID ALL 1:3'
    assert client.command(b"c", b"SEARCH RETURN (COUNT) KEYWORD nothing")[0] == b'* ESEARCH (TAG "c") COUNT 0'


async def test_search_bad_criteria_are_refused(client: Raw) -> None:
    for criteria in [
        b"",
        b"BOGUS",
        b"FROM",
        b"SINCE yesterday",
        b"LARGER big",
        b"OR SEEN",
        b"(SEEN",
        b"UID x",
        b"NOT",
        b"RETURN (FOO) ALL",
        b"()",
    ]:
        assert client.command(b"a", b"SEARCH " + criteria)[-1].startswith(b"a BAD"), criteria
    assert client.command(b"b", b"NOOP")[-1].startswith(b"b OK")


async def test_search_by_flags_follows_changes_of_this_and_other_sessions(raw) -> None:
    owner = await make_mail_user()
    for _ in range(4):
        await deliver(owner)
    client, other = selected(raw, owner), selected(raw, owner)
    assert search(client, b"UNSEEN") == [1, 2, 3, 4]
    client.command(b"a", b"STORE 1 +FLAGS (\\Seen)")
    assert search(client, b"UNSEEN") == [2, 3, 4]
    other.command(b"b", b"STORE 2 +FLAGS (\\Seen \\Deleted)")
    other.command(b"c", b"EXPUNGE")
    client.command(b"n", b"NOOP")  # hears of both
    assert search(client, b"UNSEEN") == [2, 3] and search(client, b"UNSEEN", uid=True) == [3, 4]
    append = make_message()
    other.send(b"d APPEND INBOX (\\Flagged) {%d+}\r\n%b\r\n" % (len(append), append))
    other.until(b"d")
    client.command(b"m", b"NOOP")
    assert search(client, b"FLAGGED") == [4] and search(client, b"OR FLAGGED SEEN NOT 2") == [1, 4]
    assert search(client, b"NOT (UNSEEN 1:2)") == [1, 3, 4]


async def test_search_return_save_makes_dollar_the_saved_result(client: Raw) -> None:
    assert client.command(b"a", b"SEARCH RETURN (SAVE) UNSEEN")[0] == b"a OK SEARCH completed"
    assert search(client, b"$") == [2, 3] and search(client, b"UID $ NOT DELETED") == [2]
    lines = client.command(b"b", b"SEARCH RETURN (SAVE MIN) ALL")
    assert lines[0] == b'* ESEARCH (TAG "b") MIN 1' and search(client, b"$") == [1]


async def test_search_partial_returns_the_asked_window(client: Raw) -> None:
    assert client.command(b"a", b"SEARCH RETURN (PARTIAL 2:3) ALL")[0] == b'* ESEARCH (TAG "a") PARTIAL (2:3 2:3)'
    assert client.command(b"b", b"SEARCH RETURN (PARTIAL -1:-1) ALL")[0] == b'* ESEARCH (TAG "b") PARTIAL (-1:-1 3)'
    assert client.command(b"c", b"SEARCH RETURN (PARTIAL 5:9) ALL")[0] == b'* ESEARCH (TAG "c") PARTIAL (5:9 NIL)'
    assert client.command(b"d", b"SEARCH RETURN (PARTIAL 0:2) ALL")[-1].startswith(b"d BAD")


async def test_search_within_and_savedate_keys_use_the_internal_and_save_dates(client: Raw) -> None:
    assert search(client, b"YOUNGER 3600") == [1, 2, 3] and search(client, b"OLDER 3600") == []
    assert search(client, b"SAVEDSINCE 1-Jan-2020") == [1, 2, 3] and search(client, b"SAVEDBEFORE 1-Jan-2020") == []
    assert search(client, b"SAVEDATESUPPORTED") == [1, 2, 3]


async def test_search_esearch_modseq_with_min_only_is_that_of_the_min_message(client: Raw) -> None:
    lines = client.command(b"f", b"FETCH 1:3 (MODSEQ)")
    modseqs = [int(line.split(b"MODSEQ (")[1].split(b")")[0]) for line in lines if b"MODSEQ (" in line]
    line = client.command(b"a", b"SEARCH RETURN (MIN) MODSEQ 1")[0]
    assert line == b'* ESEARCH (TAG "a") MIN 1 MODSEQ %d' % modseqs[0]
