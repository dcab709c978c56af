"""BINARY (RFC 3516): FETCH BINARY[part], BINARY.PEEK and BINARY.SIZE give a part's content
with its transfer encoding undone, as a literal8 when it holds a NUL; an encoding the
server cannot undo is NO [UNKNOWN-CTE]; APPEND takes a message as a literal8."""

from __future__ import annotations

import imaplib

import pytest

from tests.factories import TestUser
from tests.mail.factories import deliver, make_message, messages_in

pytestmark = pytest.mark.usefixtures("migrated")

PAYLOAD = b"\x00\x01binary\xff"
TEXT = "Bonjour é\n"
UUENCODED = (
    b"From: a@example.net\r\nTo: b@example.org\r\nSubject: old\r\nMIME-Version: 1.0\r\n"
    b"Content-Type: application/octet-stream\r\nContent-Transfer-Encoding: x-uuencode\r\n\r\n"
    b"begin 644 x\r\n#86)C\r\n`\r\nend\r\n"
)


@pytest.fixture
async def attached(user: TestUser) -> TestUser:
    """A text part (8bit) and a base64 attachment whose bytes hold a NUL."""
    await deliver(user, make_message(body=TEXT, attachments=(("x.bin", PAYLOAD, "application/octet-stream"),)))
    return user


def _fetch(client: imaplib.IMAP4, items: str) -> list:
    typ, data = client.fetch("1", items)
    assert typ == "OK", data
    return data


async def test_binary_fetch_undoes_base64_and_sends_a_literal8(connect, attached: TestUser) -> None:
    client = connect(attached)
    client.select("INBOX")
    data = _fetch(client, "(BINARY.PEEK[2])")
    assert data[0][0].endswith(b"BINARY[2] ~{%d}" % len(PAYLOAD)) and data[0][1] == PAYLOAD


async def test_binary_size_is_the_decoded_length(connect, attached: TestUser) -> None:
    client = connect(attached)
    client.select("INBOX")
    [line] = _fetch(client, "(BINARY.SIZE[1] BINARY.SIZE[2])")
    text = TEXT.replace("\n", "\r\n").encode()
    assert line == b"1 (BINARY.SIZE[1] %d BINARY.SIZE[2] %d)" % (len(text), len(PAYLOAD))


async def test_binary_of_a_text_part_is_its_8bit_bytes(connect, attached: TestUser) -> None:
    client = connect(attached)
    client.select("INBOX")
    data = _fetch(client, "(BINARY.PEEK[1])")
    text = TEXT.replace("\n", "\r\n").encode()
    assert data[0][0].endswith(b"BINARY[1] {%d}" % len(text)) and data[0][1] == text


async def test_binary_partial_counts_decoded_bytes(connect, attached: TestUser) -> None:
    client = connect(attached)
    client.select("INBOX")
    data = _fetch(client, "(BINARY.PEEK[2]<2.6>)")
    assert data[0][0].endswith(b"BINARY[2]<2> {6}") and data[0][1] == PAYLOAD[2:8]


async def test_binary_sets_seen_and_binary_peek_does_not(connect, attached: TestUser) -> None:
    client = connect(attached)
    client.select("INBOX")
    _fetch(client, "(BINARY.PEEK[2])")
    assert not (await messages_in(attached))[0].seen
    data = _fetch(client, "(BINARY[2])")
    assert b"\\Seen" in b"".join(part if isinstance(part, bytes) else part[0] for part in data)
    assert (await messages_in(attached))[0].seen


async def test_binary_unknown_transfer_encoding_is_no_unknown_cte(raw, user: TestUser) -> None:
    await deliver(user, UUENCODED)
    client = raw(user)
    client.command(b"s", b"SELECT INBOX")
    assert client.command(b"f", b"FETCH 1 (BINARY[1])") == [b"f NO [UNKNOWN-CTE] Unknown Content-Transfer-Encoding"]
    assert client.command(b"g", b"FETCH 1 (BODY.PEEK[1])")[-1].startswith(b"g OK")  # BODY sends it as it is


@pytest.mark.parametrize(
    "item",
    [b"BINARY[1.MIME]", b"BINARY[HEADER]", b"BINARY[x]", b"BINARY[01]", b"BINARY.SIZE[1]<0.2>", b"BINARY[1]<0.0>"],
)
async def test_binary_malformed_section_is_bad(raw, attached: TestUser, item: bytes) -> None:
    client = raw(attached)
    client.command(b"s", b"SELECT INBOX")
    assert client.command(b"f", b"FETCH 1 (%b)" % item)[-1].startswith(b"f BAD")


async def test_binary_append_literal8_keeps_nul_bytes(raw, user: TestUser) -> None:
    message = b"From: a@example.net\r\nSubject: nul\r\n\r\nab\x00cd\r\n"
    client = raw(user)
    client.send(b"a APPEND INBOX ~{%d}\r\n" % len(message))
    assert client.line().startswith(b"+ ")
    client.send(message + b"\r\n")
    assert client.until(b"a")[-1].startswith(b"a OK [APPENDUID ")
    client.command(b"s", b"SELECT INBOX")
    lines = client.command(b"f", b"FETCH 1 (BINARY.PEEK[] BODY.PEEK[])")
    assert lines[0] == b"* 1 FETCH (BINARY[] ~{%d}" % len(message)
    assert lines[1] == message  # the literal8 holds the NUL as stored
    assert lines[3] == message.replace(b"\x00", b"\x80")  # BODY[] never sends a NUL


async def test_binary_literal8_outside_append_is_bad(raw, attached: TestUser) -> None:
    client = raw(attached)
    client.send(b"a SELECT ~{5+}\r\nINBOX\r\n")
    assert client.until(b"a")[-1].startswith(b"a BAD")
