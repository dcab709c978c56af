"""UTF8=ACCEPT (RFC 6855): once a session enables it, mailbox names travel in UTF-8 both
ways (``&`` is then an ordinary character), and APPEND takes ``UTF8 (~{n})``; other
sessions keep modified UTF-7."""

from __future__ import annotations

import pytest

from tests.factories import TestUser
from tests.mail.factories import messages_in
from tests.mail.imap.conftest import Raw

pytestmark = pytest.mark.usefixtures("migrated")

SUMMER = "Été 2024"
SUMMER_UTF7 = b"&AMk-t&AOk- 2024"
MESSAGE = "From: zoé@exemple.fr\r\nSubject: très bien\r\n\r\nDéjà vu.\r\n".encode()


def _utf8(raw, user: TestUser) -> Raw:
    client = raw(user)
    assert b"UTF8=ACCEPT" in client.command(b"c", b"CAPABILITY")[0].split()
    assert client.command(b"e", b"ENABLE UTF8=ACCEPT") == [b"* ENABLED UTF8=ACCEPT", b"e OK ENABLE completed"]
    return client


def _listed(client: Raw, pattern: bytes) -> list[bytes]:
    return [line for line in client.command(b"l", b'LIST "" ' + pattern) if line.startswith(b"* LIST")]


async def test_utf8_names_are_utf8_once_enabled_and_utf7_otherwise(raw, user: TestUser) -> None:
    client = _utf8(raw, user)
    name = SUMMER.encode()
    assert client.command(b"a", b'CREATE "%b"' % name)[-1].startswith(b"a OK")
    assert _listed(client, b'"*2024"') == [b'* LIST (\\HasNoChildren) "/" "%b"' % name]
    assert client.command(b"s", b'SELECT "%b"' % name)[-1].startswith(b"s OK")
    other = raw(user)  # a session that did not enable it
    assert _listed(other, b'"*2024"') == [b'* LIST (\\HasNoChildren) "/" "%b"' % SUMMER_UTF7]
    assert other.command(b"s", b'SELECT "%b"' % SUMMER_UTF7)[-1].startswith(b"s OK")


async def test_utf8_enabled_ampersand_is_an_ordinary_character(raw, user: TestUser) -> None:
    client = _utf8(raw, user)
    assert client.command(b"a", b'CREATE "R&D"')[-1].startswith(b"a OK")
    assert _listed(client, b'"R*"') == [b'* LIST (\\HasNoChildren) "/" "R&D"']
    assert _listed(raw(user), b'"R*"') == [b'* LIST (\\HasNoChildren) "/" "R&-D"']


async def test_utf8_status_names_the_folder_in_utf8(raw, user: TestUser) -> None:
    client = _utf8(raw, user)
    client.command(b"a", b'CREATE "%b"' % SUMMER.encode())
    lines = client.command(b"s", b'STATUS "%b" (MESSAGES)' % SUMMER.encode())
    assert SUMMER.encode() in b"\r\n".join(lines) and lines[-1].startswith(b"s OK")


async def test_utf8_append_takes_a_utf8_literal8(raw, user: TestUser) -> None:
    client = _utf8(raw, user)
    client.send(b"a APPEND INBOX UTF8 (~{%d+}\r\n%b)\r\n" % (len(MESSAGE), MESSAGE))
    assert client.until(b"a")[-1].startswith(b"a OK [APPENDUID ")
    [stored] = await messages_in(user)
    assert stored.size == len(MESSAGE)
    client.command(b"s", b"SELECT INBOX")
    lines = client.command(b"f", b"FETCH 1 (BODY.PEEK[])")
    assert lines[1] == MESSAGE


async def test_utf8_append_without_enable_is_bad(raw, user: TestUser) -> None:
    client = raw(user)
    client.send(b"a APPEND INBOX UTF8 (~{%d+}\r\n%b)\r\n" % (len(MESSAGE), MESSAGE))
    assert client.until(b"a")[-1].startswith(b"a BAD") and await messages_in(user) == []


@pytest.mark.parametrize(
    "data",
    [
        b"UTF8 ({%d+}\r\n%b)" % (len(MESSAGE), MESSAGE),  # a plain literal
        b"UTF8 (~{%d+}\r\n%b ~{%d+}\r\n%b)" % (len(MESSAGE), MESSAGE, len(MESSAGE), MESSAGE),  # two
        b"UTF8 ~{%d+}\r\n%b" % (len(MESSAGE), MESSAGE),  # no parentheses
        b"UTF8 ()",
    ],
)
async def test_utf8_append_malformed_data_is_bad(raw, user: TestUser, data: bytes) -> None:
    client = _utf8(raw, user)
    client.send(b"a APPEND INBOX " + data + b"\r\n")
    assert client.until(b"a")[-1].startswith(b"a BAD") and await messages_in(user) == []


async def test_utf8_name_that_is_not_utf8_is_bad(raw, user: TestUser) -> None:
    client = _utf8(raw, user)
    assert client.command(b"a", b'CREATE "caf\xe9"')[-1].startswith(b"a BAD")


async def test_utf8_imaplib_after_enable_creates_and_lists_in_utf8(connect, user: TestUser) -> None:
    client = connect(user)
    assert client.enable("UTF8=ACCEPT")[0] == "OK" and client.utf8_enabled
    assert client.create(f'"{SUMMER}"')[0] == "OK"
    typ, listed = client.list('""', '"*2024"')
    assert typ == "OK" and listed == [b'(\\HasNoChildren) "/" "%b"' % SUMMER.encode()]
    assert client.select(f'"{SUMMER}"')[0] == "OK"
