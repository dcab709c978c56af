"""What hostile input costs: searches built to overflow the database's statement, NUL
bytes in messages and commands, a stream of invalid commands, a full disk under APPEND,
and what the server writes to its log meanwhile (never SQL, never message content)."""

from __future__ import annotations

import logging
import subprocess
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from hexagone.core.blobs import blob_url
from hexagone.core.config import get_settings
from hexagone.core.failures import log_failure
from hexagone.mail.imap.literals import MAX_LARGE_LITERALS
from hexagone.mail.imap.parser import LARGE_LITERAL
from hexagone.mail.imap.query import SQL_RANGES
from hexagone.mail.imap.search import MAX_KEYS
from hexagone.mail.imap.session import MAX_BAD_COMMANDS
from hexagone.mail.service import store
from tests.conftest import Server
from tests.factories import TestUser
from tests.mail.factories import deliver, make_message, messages_in
from tests.mail.imap.conftest import TIMEOUT, Raw

pytestmark = pytest.mark.usefixtures("migrated")


def selected(raw, user: TestUser) -> Raw:  # type: ignore[no-untyped-def]
    client = raw(user)
    assert client.command(b"s", b"SELECT INBOX")[-1].startswith(b"s OK")
    return client


def appended(client: Raw, message: bytes) -> bytes:
    client.send(b"ap APPEND INBOX {%d+}\r\n%b\r\n" % (len(message), message))
    return client.until(b"ap")[-1]


# --- SEARCH ------------------------------------------------------------------------------


async def test_search_of_5000_anded_keys_is_refused_with_limit_and_logs_nothing(
    raw, user: TestUser, server: Server
) -> None:
    await deliver(user, subject="budget")
    marker = uuid.uuid4().hex[:6]
    client = selected(raw, user)
    lines = client.command(b"q", b"SEARCH" + b" FROM %b" % marker.encode() * 5000)
    assert lines[-1].startswith(b"q NO [LIMIT]"), lines[-1]
    assert client.command(b"n", b"NOOP")[-1] == b"n OK NOOP completed"
    assert marker not in server.log.read_text(errors="replace")


async def test_search_of_as_many_keys_as_allowed_answers(raw, user: TestUser) -> None:
    await deliver(user, sender="alice@example.org", subject="one")
    await deliver(user, sender="bob@example.org", subject="two")
    client = selected(raw, user)
    keys = b" NOT FROM carol" * ((MAX_KEYS - 1) // 2) + b" FROM alice"  # NOT and its key count as two
    lines = client.command(b"q", b"SEARCH" + keys)
    assert lines[-1].startswith(b"q OK"), lines[-1]
    assert b"* SEARCH 1" in lines


async def test_search_uid_set_of_10001_entries_answers_correctly(raw, user: TestUser, server: Server) -> None:
    count = 2 * SQL_RANGES + 4  # enough odd UIDs for the set to outgrow what is matched in SQL
    for number in range(count):
        await deliver(user, sender="alice@example.org", subject=f"message {number}")
    odd = b"* SEARCH " + b" ".join(b"%d" % n for n in range(1, count + 1, 2))
    even = b"* SEARCH " + b" ".join(b"%d" % n for n in range(2, count + 1, 2))
    uid_set = b",".join(b"%d" % n for n in range(1, 20_003, 2))  # 10,001 odd UIDs
    client = selected(raw, user)
    for criteria, expected in [
        (b"UID %b FROM alice" % uid_set, odd),  # with a key only the database answers
        (b"NOT UID %b FROM alice" % uid_set, even),
        (b"OR UID %b TEXT nowhere" % uid_set, odd),  # beside a key answered in Python
    ]:
        lines = client.command(b"q", b"UID SEARCH " + criteria)
        assert lines[-1].startswith(b"q OK"), lines[-1]
        assert expected in lines
    assert client.command(b"st", b"UID STORE %b +FLAGS.SILENT (\\Flagged)" % uid_set)[-1].startswith(b"st OK")
    fetched = client.command(b"f", b"UID FETCH %b (FLAGS)" % uid_set)
    assert fetched[-1].startswith(b"f OK") and sum(b"\\Flagged" in line for line in fetched) == count // 2
    numbers = b",".join(b"%d" % n for n in range(2, 20_004, 2))  # 10,001 message numbers
    lines = client.command(b"q", b"SEARCH %b SUBJECT message" % numbers)
    assert lines[-1].startswith(b"q OK") and even in lines
    assert "Traceback" not in server.log.read_text(errors="replace")


def test_search_a_failure_is_logged_as_one_line_without_sql_or_parameters(caplog: pytest.LogCaptureFixture) -> None:
    engine = create_engine("sqlite://")
    with engine.connect() as conn, pytest.raises(OperationalError) as failure:
        conn.execute(text("SELECT subject FROM messages WHERE text LIKE :needle"), {"needle": "secret-content"})
    with caplog.at_level(logging.ERROR, logger="hexagone.mail.imap"):
        log_failure(logging.getLogger("hexagone.mail.imap"), "IMAP a12 SEARCH", failure.value)
    [record] = caplog.records
    line = record.getMessage()
    assert line.startswith("IMAP a12 SEARCH failed: OperationalError at ")
    assert "secret-content" not in caplog.text and "SELECT" not in caplog.text and "\n" not in line.strip()
    assert record.exc_info is None


# --- NUL ---------------------------------------------------------------------------------


NUL_MESSAGE = (
    b"From: alice@example.org\r\nTo: bob@example.org\r\nSubject: nul\x00here\r\n"
    b"X-Note: a\x00b\r\n\r\nbody \x00 with a NUL\r\n"
)


async def test_nul_appended_message_is_stored_as_received_and_served_without_nul(raw, user: TestUser) -> None:
    client = selected(raw, user)
    assert appended(client, NUL_MESSAGE).startswith(b"ap OK")
    [stored] = await messages_in(user)
    assert await store.read(stored) == NUL_MESSAGE
    lines = client.command(b"f", b"FETCH 1 (RFC822.SIZE ENVELOPE BODY[] BODY[HEADER] BODY[TEXT] BODY[]<20.30>)")
    assert lines[-1].startswith(b"f OK")
    assert all(b"\x00" not in line for line in lines)
    served = NUL_MESSAGE.replace(b"\x00", b"\x80")
    assert served in lines and served[: served.index(b"\r\n\r\n") + 4] in lines and served[20:50] in lines
    assert b"RFC822.SIZE %d" % len(NUL_MESSAGE) in lines[0]


async def test_nul_in_a_large_message_streamed_from_the_blob_store_is_replaced(raw, user: TestUser) -> None:
    message = NUL_MESSAGE + b"\x00line\r\n" * 300_000  # above the size FETCH streams in pieces
    await deliver(user, message)
    client = selected(raw, user)
    lines = client.command(b"f", b"FETCH 1 BODY.PEEK[]")
    assert lines[-1].startswith(b"f OK")
    assert lines[1] == message.replace(b"\x00", b"\x80")


async def test_nul_in_a_command_is_bad(raw, user: TestUser) -> None:
    client = selected(raw, user)
    assert client.command(b"a", b"NOOP\x00")[-1].startswith(b"a BAD")
    assert client.command(b"b", b'SEARCH SUBJECT "x\x00y"')[-1].startswith(b"b BAD")
    client.send(b"c SEARCH SUBJECT {3+}\r\nx\x00y\r\n")
    assert client.until(b"c")[-1] == b"c BAD NUL in a literal"
    assert client.command(b"d", b"NOOP")[-1] == b"d OK NOOP completed"


# --- invalid commands --------------------------------------------------------------------


async def test_invalid_commands_in_a_row_close_the_session(raw, user: TestUser) -> None:
    client = raw(user)
    for index in range(MAX_BAD_COMMANDS - 1):
        assert client.command(b"x%d" % index, b"NONSENSE")[-1].startswith(b"x%d BAD" % index)
    assert client.command(b"n", b"NOOP")[-1] == b"n OK NOOP completed"  # a valid command starts the count again
    for index in range(MAX_BAD_COMMANDS - 1):
        client.command(b"y%d" % index, b"FETCH")  # not valid before SELECT
    client.send(b"z BOGUS\r\n")
    assert client.line() == b"z BAD Unknown command"
    assert client.line() == b"* BYE Too many invalid commands"
    with pytest.raises(ConnectionError):
        client.line()


# --- a full disk -------------------------------------------------------------------------


@contextmanager
def full_disk() -> Iterator[None]:
    """The blob store's folder for files being written, on a 64 KiB tmpfs (needs root,
    as the test machines run): what a full disk looks like to the server."""
    temp = Path(blob_url(get_settings()).removeprefix("file://")) / ".tmp"
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(temp)], check=True)
    try:
        yield
    finally:
        subprocess.run(["umount", str(temp)], check=True)


async def test_append_on_a_full_disk_is_temporarily_unavailable_and_logged_in_one_line(
    raw, user: TestUser, server: Server
) -> None:
    client = selected(raw, user)
    message = make_message(subject="too big for the disk", body="line of text\n" * 20_000)
    log_before = server.log.stat().st_size
    with full_disk():
        answer = appended(client, message)
    assert answer.startswith(b"ap NO [UNAVAILABLE]"), answer
    with server.log.open("rb") as log:
        log.seek(log_before)
        written = log.read().decode(errors="replace").splitlines()
    assert [line for line in written if "ap APPEND refused: no space left" in line], written
    assert not [line for line in written if "Traceback" in line]
    assert await messages_in(user) == []
    assert appended(client, message).startswith(b"ap OK")  # room again: the same message is stored


# --- large literals ----------------------------------------------------------------------


async def test_large_literals_beyond_the_bound_wait_for_a_permit(raw, user: TestUser) -> None:
    size = LARGE_LITERAL
    waiting = [raw(user) for _ in range(MAX_LARGE_LITERALS + 1)]
    for client in waiting[:MAX_LARGE_LITERALS]:  # each holds a permit, its literal not yet sent
        client.send(b"ap APPEND INBOX {%d}\r\n" % size)
        assert client.line() == b"+ Ready for literal data"
    last = waiting[-1]
    last.send(b"ap APPEND INBOX {%d}\r\n" % size)
    last.sock.settimeout(1)
    with pytest.raises(TimeoutError):  # no "+": the server reads no more large literals at once
        last.line()
    last.sock.settimeout(TIMEOUT)
    first = waiting[0]
    message = make_message(subject="large", body="a line of a large message\n" * (size // 26))[:size]
    first.send(message + b"\r\n")
    assert first.until(b"ap")[-1].startswith(b"ap OK")
    assert last.line() == b"+ Ready for literal data"  # the permit passed on
    last.send(message + b"\r\n")
    assert last.until(b"ap")[-1].startswith(b"ap OK")
    for client in waiting[1:MAX_LARGE_LITERALS]:  # a client that goes away gives its permit back
        client.close()
    again = raw(user)
    again.send(b"ap APPEND INBOX {%d}\r\n" % size)
    assert again.line() == b"+ Ready for literal data"
    again.close()
