"""SORT and THREAD (RFC 5256, with RFC 5957's DISPLAYFROM/DISPLAYTO), ESORT and the live
searches of CONTEXT=SEARCH/SORT (RFC 5267), and SEARCHRES's ``$`` (RFC 5182), on small
mailboxes whose answers are known. Dovecot's answers on real-world mail are compared in
``differential/test_sort_thread.py``."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from tests.conftest import Server
from tests.factories import TestUser
from tests.mail.factories import deliver, make_mail_org, make_mail_user
from tests.mail.imap.conftest import Raw
from tests.mail.imap.sessions import ok, selected, signed_in

pytestmark = pytest.mark.usefixtures("migrated")


def _message(sender: str, to: str | None, subject: str, day: int, size: int, extra: str = "") -> bytes:
    header = f"From: {sender}\r\n" + (f"To: {to}\r\n" if to else "") + f"Subject: {subject}\r\n"
    header += f"Date: Wed, {day:02d} Jan 2025 10:00:00 +0000\r\nMessage-ID: <{day}@sort.test>\r\n{extra}"
    return (header + "\r\n" + "x" * (size - 2) + "\r\n").encode()


# Five messages: dates in folder order, arrivals in the reverse order, sizes in neither.
MESSAGES = [
    _message("Aaron <zoe@example.org>", "adam@example.org", "Budget", 1, 3000, "Cc: b@example.org\r\n"),
    _message("alice@example.org", "Yann <yann@example.org>", "Agenda", 2, 1000),
    _message("Bob <bob@example.org>", "team: x@example.org;", "Re: Budget", 3, 5000, "References: <1@sort.test>\r\n"),
    _message("Carl <carl@example.org>", None, "Re: Re: budget", 4, 2000, "References: <1@sort.test> <3@sort.test>\r\n"),
    _message("Dana <dana@example.org>", "carol@example.org", "Fwd: Agenda", 5, 4000),
]


@pytest.fixture(scope="module")
async def mailbox() -> TestUser:
    """The five messages as 1 to 5, with UIDs 2 to 6 (a first message was expunged)."""
    owner = await make_mail_user()
    await deliver(owner, MESSAGES[0], flags=("\\Deleted",))
    for index, raw in enumerate(MESSAGES):
        await deliver(owner, raw, internal_date=datetime(2025, 2, 10 - index, tzinfo=UTC))
    return owner


@pytest.fixture(scope="module")
def client(server: Server, mailbox: TestUser) -> Iterator[Raw]:
    """One read-only session for the cases of the five messages, the first expunged."""
    with signed_in(server, mailbox) as opened:
        ok(opened, b"s", b"SELECT INBOX")
        assert ok(opened, b"e", b"EXPUNGE")[0] == b"* 1 EXPUNGE"
        ok(opened, b"x", b"EXAMINE INBOX")
        yield opened


def _numbers(client: Raw, command: bytes, name: bytes) -> list[int]:
    lines = client.command(b"q", command)
    assert lines[-1].startswith(b"q OK"), lines
    [line] = [line for line in lines if line.startswith(b"* " + name)]
    return [int(n) for n in line.split()[2:]]


SORTS = [
    (b"(ARRIVAL)", [5, 4, 3, 2, 1]),
    (b"(DATE)", [1, 2, 3, 4, 5]),
    (b"(REVERSE DATE)", [5, 4, 3, 2, 1]),
    (b"(SIZE)", [2, 4, 1, 5, 3]),
    (b"(FROM)", [2, 3, 4, 5, 1]),  # the mailbox, not the name: alice bob carl dana zoe
    (b"(DISPLAYFROM)", [1, 2, 3, 4, 5]),  # the name, else the address: Aaron alice@ Bob Carl Dana
    (b"(TO)", [4, 1, 5, 3, 2]),  # none first; a group sorts by its name
    (b"(DISPLAYTO)", [4, 1, 5, 3, 2]),
    (b"(CC)", [2, 3, 4, 5, 1]),  # ties (no Cc) in folder order
    (b"(SUBJECT)", [2, 5, 1, 3, 4]),  # base subjects: "Re:" and "Fwd:" do not count
    (b"(REVERSE SUBJECT)", [1, 3, 4, 2, 5]),  # ties stay in folder order when reversed
    (b"(SUBJECT REVERSE DATE)", [5, 2, 4, 3, 1]),
    (b"(SIZE " + b"REVERSE SIZE " * 5000 + b"DATE)", [2, 4, 1, 5, 3]),  # a key named again changes nothing
]


@pytest.mark.parametrize(("keys", "expected"), SORTS, ids=[k.decode()[:40] for k, _ in SORTS])
async def test_sort_orders_by_the_keys_with_ties_in_folder_order(client: Raw, keys: bytes, expected: list[int]) -> None:
    assert _numbers(client, b"SORT " + keys + b" UTF-8 ALL", b"SORT") == expected


async def test_sort_uid_sort_answers_uids_of_the_messages_found(client: Raw) -> None:
    assert _numbers(client, b"UID SORT (REVERSE SIZE) US-ASCII SUBJECT budget", b"SORT") == [4, 2, 5]
    assert _numbers(client, b"SORT (DATE) UTF-8 LARGER 100000", b"SORT") == []


async def test_esort_return_options_follow_the_sort_order(client: Raw) -> None:
    def esearch(command: bytes) -> bytes:
        lines = client.command(b"t", command)
        assert lines[-1].startswith(b"t OK"), lines
        return lines[0]

    assert esearch(b"SORT RETURN (MIN MAX COUNT) (SIZE) UTF-8 ALL") == b'* ESEARCH (TAG "t") MIN 2 MAX 3 COUNT 5'
    assert esearch(b"SORT RETURN (ALL) (SIZE) UTF-8 ALL") == b'* ESEARCH (TAG "t") ALL 2,4,1,5,3'
    assert esearch(b"UID SORT RETURN () (ARRIVAL) UTF-8 ALL") == b'* ESEARCH (TAG "t") UID ALL 6,5,4,3,2'
    assert esearch(b"SORT RETURN (PARTIAL 2:3) (SIZE) UTF-8 ALL") == b'* ESEARCH (TAG "t") PARTIAL (2:3 4,1)'


async def test_sort_bad_criteria_charsets_and_algorithms_are_refused(client: Raw) -> None:
    for command, answer in [
        (b"SORT (COLOUR) UTF-8 ALL", b"q BAD Unknown sort criterion COLOUR"),
        (b"SORT (REVERSE) UTF-8 ALL", b"q BAD Missing sort criterion"),
        (b"SORT () UTF-8 ALL", b"q BAD Missing sort criterion"),
        (b"SORT DATE UTF-8 ALL", b"q BAD Invalid sort criteria"),
        (b"SORT (DATE) UTF-8", b"q BAD Missing search criteria"),
        (b"SORT (DATE) KOI8-R ALL", b"q NO [BADCHARSET (UTF-8 US-ASCII)] Unsupported charset"),
        (b"THREAD FLAT UTF-8 ALL", b"q BAD Unknown threading algorithm FLAT"),
        (b"THREAD REFERENCES", b"q BAD Missing charset"),
    ]:
        assert client.command(b"q", command) == [answer], command


async def test_thread_references_links_replies_and_gathers_subjects(client: Raw) -> None:
    lines = client.command(b"q", b"THREAD REFERENCES UTF-8 ALL")
    assert lines == [b"* THREAD (1 3 4)(2 5)", b"q OK THREAD completed"]
    assert client.command(b"q", b"UID THREAD REFERENCES UTF-8 NOT 3")[0] == b"* THREAD (2 5)(3 6)"


async def test_thread_orderedsubject_hangs_each_subject_under_its_first_message(client: Raw) -> None:
    assert client.command(b"q", b"THREAD ORDEREDSUBJECT UTF-8 ALL")[0] == b"* THREAD (1 (3)(4))(2 5)"
    assert client.command(b"q", b"THREAD ORDEREDSUBJECT UTF-8 SUBJECT nothing")[0] == b"* THREAD "


async def test_sort_and_thread_through_imapclient(imapclient, mailbox: TestUser) -> None:
    client = imapclient(mailbox)
    client.select_folder("INBOX", readonly=True)
    assert client.has_capability("SORT") and client.has_capability("THREAD=REFERENCES")
    assert client.sort(["REVERSE DATE"]) == [6, 5, 4, 3, 2]
    assert client.sort(["SUBJECT", "DATE"], ["NOT", "FROM", "dana"]) == [3, 2, 4, 5]
    assert client.thread("REFERENCES") == ((2, 4, 5), (3, 6))
    assert client.thread("ORDEREDSUBJECT", ["SUBJECT", "agenda"]) == ((3, 6),)


async def test_sort_sees_only_the_signed_in_users_messages(raw, mailbox: TestUser) -> None:
    for other in (await make_mail_user(), await make_mail_user(await make_mail_org())):
        await deliver(other, MESSAGES[1])
        client = raw(other)
        ok(client, b"s", b"EXAMINE INBOX")
        assert _numbers(client, b"UID SORT (DATE) UTF-8 ALL", b"SORT") == [1]
        assert client.command(b"t", b"UID THREAD REFERENCES UTF-8 ALL")[0] == b"* THREAD (1)"


async def test_session_capabilities_advertise_sort_thread_esort_context_and_searchres(raw, user: TestUser) -> None:
    [line, _] = raw(user).command(b"c", b"CAPABILITY")
    for capability in [
        b"SORT",
        b"SORT=DISPLAY",
        b"ESORT",
        b"THREAD=REFERENCES",
        b"THREAD=ORDEREDSUBJECT",
        b"CONTEXT=SEARCH",
        b"CONTEXT=SORT",
        b"SEARCHRES",
    ]:
        assert capability in line.split(), capability


# --- SEARCHRES ------------------------------------------------------------------------------


@pytest.fixture
async def five() -> TestUser:
    owner = await make_mail_user()
    for raw in MESSAGES:
        await deliver(owner, raw)
    return owner


async def test_searchres_dollar_names_the_saved_messages_in_fetch_store_copy_and_move(raw, five: TestUser) -> None:
    client = selected(raw, five)
    assert client.command(b"a", b"SEARCH RETURN (SAVE) SUBJECT agenda") == [b"a OK SEARCH completed"]
    assert client.command(b"b", b"FETCH $ (UID)")[:2] == [b"* 2 FETCH (UID 2)", b"* 5 FETCH (UID 5)"]
    assert client.command(b"c", b"UID FETCH $ (RFC822.SIZE)")[:2] == [
        b"* 2 FETCH (UID 2 RFC822.SIZE %d)" % len(MESSAGES[1]),
        b"* 5 FETCH (UID 5 RFC822.SIZE %d)" % len(MESSAGES[4]),
    ]
    assert client.command(b"d", b"STORE $ +FLAGS.SILENT (\\Flagged)") == [b"d OK STORE completed"]
    assert _numbers(client, b"SEARCH FLAGGED", b"SEARCH") == [2, 5]
    assert client.command(b"e", b"UID COPY $ Kept")[-1].startswith(b"e NO ")
    client.command(b"f", b"CREATE Kept")
    assert client.command(b"g", b"COPY $ Kept")[-1].endswith(b" 2,5 1:2] COPY completed")
    lines = client.command(b"h", b"UID MOVE $ Kept")
    assert lines[-3:] == [b"* 5 EXPUNGE", b"* 2 EXPUNGE", b"h OK MOVE completed"]
    assert client.command(b"i", b"FETCH $ (UID)") == [b"i OK FETCH completed"]  # moved away


async def test_searchres_sort_save_pipelined_with_uid_expunge(raw, five: TestUser) -> None:
    client = selected(raw, five)
    client.send(
        b"a UID SORT RETURN (SAVE MIN) (SIZE) UTF-8 ALL\r\nb UID STORE $ +FLAGS (\\Deleted)\r\nc UID EXPUNGE $\r\n"
    )
    assert client.until(b"a") == [b'* ESEARCH (TAG "a") UID MIN 2', b"a OK SORT completed"]
    assert client.until(b"b")[-1] == b"b OK STORE completed"
    assert client.until(b"c") == [b"* 2 EXPUNGE", b"c OK EXPUNGE completed"]
    assert _numbers(client, b"UID SEARCH $", b"SEARCH") == []


async def test_searchres_dollar_is_empty_before_any_save_and_in_another_folder(raw, five: TestUser) -> None:
    client = selected(raw, five)
    assert client.command(b"a", b"FETCH $ (UID)") == [b"a OK FETCH completed"]
    client.command(b"b", b"SEARCH RETURN (SAVE) ALL")
    assert _numbers(client, b"SEARCH $", b"SEARCH") == [1, 2, 3, 4, 5]
    client.command(b"c", b"SELECT INBOX")  # a new selection forgets the saved result
    assert _numbers(client, b"SEARCH $", b"SEARCH") == []


# --- CONTEXT=SEARCH and CONTEXT=SORT -----------------------------------------------------------


@pytest.fixture
def sessions(raw, five: TestUser) -> tuple[Raw, Raw]:
    """Two sessions on the same INBOX: one watches live searches, the other changes flags."""
    return selected(raw, five), selected(raw, five)


async def test_context_search_update_sends_addto_and_removefrom_as_the_result_changes(
    sessions: tuple[Raw, Raw],
) -> None:
    watcher, writer = sessions
    assert watcher.command(b"a", b"SEARCH RETURN (UPDATE COUNT) FLAGGED")[0] == b'* ESEARCH (TAG "a") COUNT 0'
    assert watcher.command(b"b", b"UID SEARCH RETURN (UPDATE) FLAGGED")[0] == b'* ESEARCH (TAG "b") UID'
    writer.command(b"w", b"STORE 2,4 +FLAGS (\\Flagged)")
    lines = watcher.command(b"n", b"NOOP")
    assert lines[-3:] == [
        b'* ESEARCH (TAG "a") ADDTO (0 2,4)',
        b'* ESEARCH (TAG "b") UID ADDTO (0 2,4)',
        b"n OK NOOP completed",
    ]
    writer.command(b"w", b"STORE 2 -FLAGS (\\Flagged)")
    writer.command(b"w", b"STORE 4 +FLAGS (\\Deleted)")
    writer.command(b"w", b"EXPUNGE")
    lines = [line for line in watcher.command(b"n", b"NOOP") if b"FETCH" not in line]
    assert lines == [  # the expunged message leaves first, numbered as before the EXPUNGE
        b'* ESEARCH (TAG "a") REMOVEFROM (0 4)',
        b'* ESEARCH (TAG "b") UID REMOVEFROM (0 4)',
        b"* 4 EXPUNGE",
        b'* ESEARCH (TAG "a") REMOVEFROM (0 2)',
        b'* ESEARCH (TAG "b") UID REMOVEFROM (0 2)',
        b"n OK NOOP completed",
    ]
    assert watcher.command(b"c", b'CANCELUPDATE "a" "b"') == [b"c OK Updates cancelled"]
    writer.command(b"w", b"STORE 1 +FLAGS (\\Flagged)")
    assert not [line for line in watcher.command(b"n", b"NOOP") if b"ESEARCH" in line]


async def test_context_sort_update_names_positions_in_the_sorted_result(sessions: tuple[Raw, Raw]) -> None:
    watcher, writer = sessions
    writer.command(b"w", b"STORE 1,3 +FLAGS (\\Seen)")
    lines = watcher.command(b"a", b"SORT RETURN (UPDATE ALL) (SIZE) UTF-8 SEEN")
    assert lines[-2:] == [b'* ESEARCH (TAG "a") ALL 1,3', b"a OK SORT completed"]
    writer.command(b"w", b"STORE 2,5 +FLAGS (\\Seen)")  # sizes: 2 is the smallest, 5 between 1 and 3
    writer.command(b"w", b"STORE 1 -FLAGS (\\Seen)")
    lines = watcher.command(b"n", b"NOOP")
    assert lines[-3:] == [
        b'* ESEARCH (TAG "a") REMOVEFROM (1 1)',
        b'* ESEARCH (TAG "a") ADDTO (1 2 2 5)',
        b"n OK NOOP completed",
    ]


async def test_context_duplicate_and_unknown_tags_are_refused(raw, five: TestUser) -> None:
    client = selected(raw, five)
    client.command(b"a", b"SEARCH RETURN (UPDATE) ALL")
    assert client.command(b"a", b"SORT RETURN (UPDATE) (DATE) UTF-8 ALL") == [b"a BAD Duplicate search update tag"]
    assert client.command(b"b", b'CANCELUPDATE "zz"') == [b"b NO Unknown tag"]
    assert client.command(b"c", b"CANCELUPDATE") == [b"c BAD Missing tag"]
    for number in range(15):
        client.command(b"u%d" % number, b"SEARCH RETURN (UPDATE) ALL")
    assert client.command(b"v", b"SEARCH RETURN (UPDATE) ALL") == [b"v NO [LIMIT] Too many live searches"]
    client.command(b"s", b"SELECT INBOX")  # a new selection ends them all
    assert client.command(b"d", b'CANCELUPDATE "a"') == [b"d NO Unknown tag"]
