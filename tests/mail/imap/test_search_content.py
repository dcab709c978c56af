"""SEARCH on what messages say, as Dovecot 2.3 answers it: addresses as written (group
names and members, a missing domain), the decoded body of every text part (encoded,
in another charset, attached, forwarded), the header fields of MIME parts, and the
Date field's own day. One test per rule, through imaplib."""

from __future__ import annotations

import imaplib
from collections.abc import Callable

import pytest

from hexagone.mail.models import Message
from tests.factories import TestUser
from tests.mail.factories import deliver, make_mail_user, messages_in

pytestmark = pytest.mark.usefixtures("migrated")


def _message(name: str, fields: bytes, body: bytes = b"body\r\n") -> bytes:
    return b"From: a@example.org\r\nMessage-ID: <" + name.encode() + b"@example.org>\r\n" + fields + b"\r\n" + body


MESSAGES = {
    "group": _message(
        "group", b"Date: Tue, 04 Mar 2025 10:00:00 +0100\r\nTo: Team: ann@x.example, Bee <bee@y.example>;\r\n"
    ),
    "no-domain": _message("no-domain", b"Date: Tue, 04 Mar 2025 10:00:00 +0100\r\nTo: root\r\n"),
    "encoded": _message(
        "encoded",
        b"Date: Tue, 04 Mar 2025 10:00:00 +0100\r\nTo: b@example.org\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/mixed; boundary="B"\r\n',
        b"preamble zebra\r\n--B\r\nContent-Type: text/plain; charset=iso-8859-1\r\n"
        b"Content-Transfer-Encoding: quoted-printable\r\n\r\nLe caf=E9 est servi.\r\n"
        b"--B\r\nContent-Type: text/plain; name=notes.txt\r\nContent-Disposition: attachment\r\n"
        b"Content-Transfer-Encoding: base64\r\nX-Note: platypus\r\n\r\ndGhlIHdvbWJhdCBub3Rl\r\n"
        b"--B\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        b"bmFyd2hhbCBpbiBiaW5hcnk=\r\n--B--\r\n",
    ),
    "forwarded": _message(
        "forwarded",
        b"Date: Tue, 04 Mar 2025 10:00:00 +0100\r\nTo: b@example.org\r\nSubject: fwd\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/mixed; boundary="F"\r\n',
        b'--F\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p class="ocelot">see below</p>\r\n'
        b"--F\r\nContent-Type: message/rfc822\r\n\r\nFrom: inner@example.net\r\nX-Inner: capybara\r\n\r\n"
        b"the inner pangolin text\r\n--F--\r\n",
    ),
    "tokyo": _message("tokyo", b"Date: Mon, 01 Jan 2024 01:30:00 +0900\r\nTo: b@example.org\r\nSubject: late\r\n"),
    "undated": _message("undated", b"To: b@example.org\r\nSubject: no date\r\n"),
}
NAMES = list(MESSAGES)


@pytest.fixture(scope="module")
async def searcher() -> TestUser:
    user = await make_mail_user()
    for raw in MESSAGES.values():
        await deliver(user, raw)
    return user


@pytest.fixture
def search(connect: Callable[..., imaplib.IMAP4], searcher: TestUser) -> Callable[..., set[str]]:
    client = connect(searcher)
    client.select("INBOX", readonly=True)

    def found(*criteria: str, literal: str | None = None) -> set[str]:
        """The messages ``criteria`` find; ``literal``, a UTF-8 string sent last, as a literal."""
        if literal is not None:
            client.literal = literal.encode()  # type: ignore[attr-defined]
        typ, data = client.search("UTF-8" if literal is not None else None, *criteria)
        assert typ == "OK", data
        return {NAMES[int(n) - 1] for n in data[0].split()}

    return found


def test_search_to_a_group_member_finds_the_message(search: Callable[..., set[str]]) -> None:
    assert search('TO "bee@y"') == {"group"}


def test_search_to_the_group_name_finds_the_message(search: Callable[..., set[str]]) -> None:
    assert search('TO "Team"') == {"group"}


def test_search_to_at_sign_finds_an_address_without_domain(search: Callable[..., set[str]]) -> None:
    assert "no-domain" in search('TO "@"')
    assert search('TO "MISSING_DOMAIN"') == {"no-domain"}


def test_search_body_finds_quoted_printable_latin1_text_decoded(search: Callable[..., set[str]]) -> None:
    assert search("BODY", literal="café") == {"encoded"}
    assert search("BODY", literal="CAFÉ") == {"encoded"}  # in any case, on SQLite too


def test_search_body_finds_base64_text_of_an_attachment(search: Callable[..., set[str]]) -> None:
    assert search('BODY "wombat"') == {"encoded"}


def test_search_body_finds_text_of_a_forwarded_message_and_html_as_written(search: Callable[..., set[str]]) -> None:
    assert search('BODY "pangolin"') == {"forwarded"}
    assert search('BODY "ocelot"') == {"forwarded"}  # an attribute: HTML is searched as written


def test_search_body_ignores_non_text_parts_preambles_and_headers(search: Callable[..., set[str]]) -> None:
    assert search('BODY "narwhal"') == set()
    assert search('BODY "zebra"') == set()
    assert search('BODY "capybara"') == set()


def test_search_text_finds_header_fields_of_mime_parts_and_forwarded_messages(search: Callable[..., set[str]]) -> None:
    assert search('TEXT "platypus"') == {"encoded"}
    assert search('TEXT "capybara"') == {"forwarded"}


def test_search_or_of_two_header_keys_finds_either(search: Callable[..., set[str]]) -> None:
    assert search('OR HEADER "Subject" "late" HEADER "Subject" "fwd"') == {"tokyo", "forwarded"}
    assert search('HEADER "X-Inner" "capybara"') == set()  # a forwarded message's fields are not the message's
    assert search('OR SUBJECT "late" TO "Team"') == {"tokyo", "group"}


def test_search_senton_is_the_day_of_the_date_field_in_its_own_zone(search: Callable[..., set[str]]) -> None:
    assert search("SENTON 1-Jan-2024") == {"tokyo"}  # 31 December in UTC
    assert search("SENTBEFORE 2-Jan-2024") == {"tokyo"}
    assert search("SENTSINCE 2-Jan-2024") == {"group", "no-domain", "encoded", "forwarded"}


def test_search_sent_keys_never_match_a_message_without_a_date(search: Callable[..., set[str]]) -> None:
    dated = set(NAMES) - {"undated"}
    assert search("SENTBEFORE 1-Jan-2100") == search("SENTSINCE 1-Jan-1970") == dated
    assert "undated" in search("NOT SENTON 1-Jan-2024")


async def test_search_sent_on_is_filled_at_append_with_the_date_fields_own_day(
    connect: Callable[..., imaplib.IMAP4],
) -> None:
    user = await make_mail_user()
    client = connect(user)
    assert client.append("INBOX", None, None, MESSAGES["tokyo"])[0] == "OK"
    assert client.append("INBOX", None, None, MESSAGES["undated"])[0] == "OK"
    stored: list[Message] = await messages_in(user)
    assert [(m.sent_on.isoformat() if m.sent_on else None) for m in stored] == ["2024-01-01", None]
    assert stored[0].sent_date is not None and stored[0].sent_date.day == 31


async def test_search_never_finds_another_users_message(
    connect: Callable[..., imaplib.IMAP4], searcher: TestUser
) -> None:
    other = await make_mail_user()
    await deliver(other, _message("other", b"To: b@example.org\r\n", b"the inner pangolin text\r\n"))
    client = connect(other)
    client.select("INBOX", readonly=True)
    assert client.search(None, 'BODY "pangolin"')[1] == [b"1"]
    client.select("INBOX", readonly=True)
    assert client.search(None, 'TO "Team"')[1] == [b""]
