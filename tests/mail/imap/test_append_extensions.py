"""What APPEND takes beyond one literal: MULTIAPPEND (RFC 3502, several messages, all
stored or none), CATENATE (RFC 4469, a message made of literals and IMAP URLs of messages
this user may read; NO [BADURL] for any other), APPENDLIMIT (RFC 7889) and literals
as a LITERAL- client sends them (RFC 7888)."""

from __future__ import annotations

import re

import pytest

from hexagone.core import blobs
from tests.factories import TestOrg, TestUser
from tests.mail.factories import deliver, folder_of, make_mail_user, make_message, messages_in
from tests.mail.imap.conftest import Raw
from tests.mail.smtp.helpers import set_quota

pytestmark = pytest.mark.usefixtures("migrated")

ONE = b"Subject: one\r\n\r\nbody one\r\n"
TWO = b"Subject: two\r\n\r\nbody two\r\n"
APPENDLIMIT = 50 * 1024 * 1024  # HEXAGONE_MAIL_MAX_MESSAGE_BYTES, as the test server has it


def _literal(data: bytes) -> bytes:
    return b"{%d+}\r\n%b" % (len(data), data)


def _append(client: Raw, tag: bytes, arguments: bytes) -> list[bytes]:
    client.send(tag + b" APPEND " + arguments + b"\r\n")
    return client.until(tag)


async def _bodies(user: TestUser, folder: str = "INBOX") -> list[bytes]:
    return [await blobs.get_store().read(message.blob_key) for message in await messages_in(user, folder)]


def test_append_extensions_are_advertised(raw, user: TestUser) -> None:
    capabilities = raw(user).command(b"c", b"CAPABILITY")[0].split()
    assert {b"MULTIAPPEND", b"CATENATE", b"LITERAL+", b"APPENDLIMIT=%d" % APPENDLIMIT} <= set(capabilities)
    assert b"LITERAL-" not in capabilities  # RFC 7888 5: never beside LITERAL+


# --- MULTIAPPEND -------------------------------------------------------------------------


async def test_multiappend_stores_every_message_and_names_their_uids(raw, user: TestUser) -> None:
    folder = await folder_of(user)
    lines = _append(raw(user), b"a", b"INBOX (\\Seen) " + _literal(ONE) + b" (\\Flagged) " + _literal(TWO))
    assert lines == [b"a OK [APPENDUID %d 1:2] APPEND completed" % folder.uidvalidity]
    stored = await messages_in(user)
    assert [(m.uid, m.seen, m.flagged) for m in stored] == [(1, True, False), (2, False, True)]
    assert await _bodies(user) == [ONE, TWO]


@pytest.mark.parametrize(
    ("tail", "answer"),
    [
        (b" foo", b"a BAD"),  # the second message is not a literal
        (b" (\\Bogus) " + _literal(TWO), b"a BAD"),  # nor a valid flag list
        (b" {0+}\r\n", b"a NO"),  # an empty message
    ],
)
async def test_multiappend_one_bad_message_stores_none(raw, user: TestUser, tail: bytes, answer: bytes) -> None:
    client = raw(user)
    assert _append(client, b"a", b"INBOX " + _literal(ONE) + tail)[-1].startswith(answer)
    assert await messages_in(user) == []
    assert client.command(b"n", b"NOOP")[-1].startswith(b"n OK")


async def test_multiappend_over_quota_together_stores_none(raw, user: TestUser) -> None:
    await set_quota(user, len(ONE) + len(TWO) - 1)  # each fits, both do not
    lines = _append(raw(user), b"a", b"INBOX " + _literal(ONE) + b" " + _literal(TWO))
    assert lines[-1].startswith(b"a NO [OVERQUOTA]") and await messages_in(user) == []


async def test_multiappend_to_a_missing_folder_is_trycreate(raw, user: TestUser) -> None:
    lines = _append(raw(user), b"a", b"Nowhere " + _literal(ONE) + b" " + _literal(TWO))
    assert lines[-1].startswith(b"a NO [TRYCREATE]")


async def test_multiappend_into_another_users_or_organisations_folder_stores_none(raw, user: TestUser) -> None:
    name = b'"Shared/%b/INBOX"' % user.email.encode()
    for stranger in await _strangers(user):
        lines = _append(raw(stranger), b"a", name + b" " + _literal(ONE) + b" " + _literal(TWO))
        assert lines[-1].startswith(b"a NO [TRYCREATE]")
    assert await messages_in(user) == []


async def test_multiappend_pipelined_with_single_appends_answers_each(raw, user: TestUser) -> None:
    client = raw(user)
    client.send(b"a APPEND INBOX " + _literal(ONE) + b"\r\n")
    client.send(b"b APPEND INBOX " + _literal(ONE) + b" " + _literal(TWO) + b"\r\n")
    client.send(b"c APPEND INBOX " + _literal(TWO) + b"\r\n")
    lines = client.until(b"c")
    assert [line.split(b"]")[0].rsplit(b" ", 1)[-1] for line in lines] == [b"1", b"2:3", b"4"]


# --- CATENATE ----------------------------------------------------------------------------


async def test_catenate_joins_text_and_a_url_of_own_message(raw, user: TestUser) -> None:
    original = make_message(subject="forwarded")
    await deliver(user, original)
    folder = await folder_of(user)
    client = raw(user)
    url = b'"/INBOX;UIDVALIDITY=%d/;UID=1/;SECTION=TEXT"' % folder.uidvalidity
    lines = _append(client, b"a", b"Drafts CATENATE (TEXT " + _literal(b"Subject: fwd\r\n\r\n") + b" URL " + url + b")")
    assert lines[-1].startswith(b"a OK [APPENDUID ")
    assert await _bodies(user, "Drafts") == [b"Subject: fwd\r\n\r\n" + original.split(b"\r\n\r\n", 1)[1]]


async def test_catenate_absolute_url_with_partial(raw, user: TestUser) -> None:
    await deliver(user, ONE)
    url = b'"imap://%b@localhost/INBOX/;UID=1/;PARTIAL=0.12"' % user.email.replace("@", "%40").encode()
    assert _append(raw(user), b"a", b"Drafts CATENATE (URL " + url + b")")[-1].startswith(b"a OK")
    assert await _bodies(user, "Drafts") == [ONE[:12]]


async def test_catenate_in_a_multiappend(raw, user: TestUser) -> None:
    await deliver(user, ONE)
    lines = _append(raw(user), b"a", b'Drafts CATENATE (URL "/INBOX/;UID=1") ' + _literal(TWO))
    assert re.fullmatch(rb"a OK \[APPENDUID \d+ 1:2\] APPEND completed", lines[-1])
    assert await _bodies(user, "Drafts") == [ONE, TWO]


@pytest.mark.parametrize(
    "url",
    [
        b'"/INBOX/;UID=99"',  # no such message
        b'"/INBOX;UIDVALIDITY=1/;UID=1"',  # another UIDVALIDITY
        b'"/Nowhere/;UID=1"',
        b'"/INBOX/;UID=1/;SECTION=9"',  # no such part
        b'"not a url"',
    ],
)
async def test_catenate_url_naming_nothing_is_badurl(raw, user: TestUser, url: bytes) -> None:
    await deliver(user, ONE)
    lines = _append(raw(user), b"a", b"Drafts CATENATE (URL " + url + b")")
    assert lines[-1].startswith(b"a NO [BADURL ") and await messages_in(user, "Drafts") == []


async def _strangers(owner: TestUser) -> list[TestUser]:
    """A colleague of ``owner`` and someone of another organisation."""
    org = TestOrg(id=owner.org_id, name="", domain=owner.email.split("@")[1])
    return [await make_mail_user(org), await make_mail_user()]


async def test_catenate_url_of_another_users_or_organisations_message_is_badurl(raw, user: TestUser) -> None:
    await deliver(user, make_message(subject="private"))
    owner = user.email.encode()
    for stranger in await _strangers(user):
        await deliver(stranger, ONE)  # a UID 1 of their own, which must not be taken instead
        for url in (
            b'"imap://%b@localhost/INBOX/;UID=1"' % owner.replace(b"@", b"%40"),
            b'"/Shared/%b/INBOX/;UID=1"' % owner,
        ):
            lines = _append(raw(stranger), b"a", b"Drafts CATENATE (URL " + url + b")")
            assert lines[-1].startswith(b"a NO [BADURL "), (stranger.email, url)
        assert await messages_in(stranger, "Drafts") == []


@pytest.mark.parametrize(
    "parts",
    [b"()", b"(TEXT)", b"(TEXT foo)", b'(FOO "x")', b"(URL)", b"(TEXT " + b"{1+}\r\nx " * 101 + b")"],
)
async def test_catenate_malformed_is_bad(raw, user: TestUser, parts: bytes) -> None:
    client = raw(user)
    assert _append(client, b"a", b"Drafts CATENATE " + parts)[-1].startswith(b"a BAD")
    assert client.command(b"n", b"NOOP")[-1].startswith(b"n OK")


# --- literals and limits -----------------------------------------------------------------


async def test_append_literal_minus_client_non_synchronizing_literals_work(connect, user: TestUser) -> None:
    """A LITERAL- client sends non-synchronizing literals of up to 4096 bytes; imaplib
    sends synchronizing ones. Both are taken."""
    body = b"Subject: big\r\n\r\n" + b"x" * (4096 - 16)
    client = connect(user)
    assert client.append("INBOX", None, None, body)[0] == "OK"
    raw_client = Raw(client.port)
    raw_client.login(user)
    assert _append(raw_client, b"a", b"INBOX " + _literal(body))[-1].startswith(b"a OK")
    raw_client.close()
    assert await _bodies(user) == [body, body]


async def test_append_over_appendlimit_is_toobig(raw, user: TestUser) -> None:
    client = raw(user)
    client.send(b"a APPEND INBOX {%d}\r\n" % (APPENDLIMIT + 1))
    assert client.line() == b"a NO [TOOBIG] Literal too large"


async def test_append_limit_is_a_status_item_as_well(raw, user: TestUser) -> None:
    lines = raw(user).command(b"s", b"STATUS Drafts (APPENDLIMIT MESSAGES)")
    assert lines[0] == b'* STATUS "Drafts" (APPENDLIMIT %d MESSAGES 0)' % APPENDLIMIT
