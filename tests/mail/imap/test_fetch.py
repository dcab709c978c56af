"""FETCH: every data item, sections and partial fetches, \\Seen on read, and the whole
mail corpus APPENDed then fetched back: BODYSTRUCTURE sizes agree with the sections'
bytes, and each leaf section decodes to what Python's email package finds there."""

from __future__ import annotations

import email
import itertools
import re
from email.policy import compat32
from pathlib import Path
from typing import Any

import pytest
from imapclient import IMAPClient

from tests.factories import TestUser
from tests.mail.factories import deliver, make_mail_user, make_message
from tests.mail.imap.differential.harness import CORPUS

pytestmark = pytest.mark.usefixtures("migrated")

CORPUS_FILES = sorted(CORPUS.rglob("*.eml"))
MULTIPART = (
    b"From: Alice <alice@example.org>\r\nTo: bob@example.org, Carol <carol@example.org>\r\n"
    b"Subject: Rapport\r\nDate: Tue, 04 Mar 2025 10:00:00 +0100\r\nMessage-ID: <r1@example.org>\r\n"
    b"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=XX\r\n\r\n"
    b"--XX\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nBonjour\r\n"
    b"--XX\r\nContent-Type: application/pdf; name=r.pdf\r\nContent-Disposition: attachment; filename=r.pdf\r\n"
    b"Content-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQ=\r\n--XX--\r\n"
)


@pytest.fixture
async def mailbox(user: TestUser) -> TestUser:
    await deliver(user, MULTIPART)
    await deliver(user, subject="second", flags=("\\Flagged", "$Work"))
    return user


async def test_fetch_flags_dates_sizes_and_uid(imapclient, mailbox: TestUser) -> None:
    client = imapclient(mailbox)
    client.select_folder("INBOX")
    found = client.fetch([1, 2], ["FLAGS", "INTERNALDATE", "RFC822.SIZE"])
    assert [found[uid][b"FLAGS"] for uid in sorted(found)] == [(b"\\Recent",), (b"\\Flagged", b"\\Recent", b"$Work")]
    assert found[1][b"RFC822.SIZE"] == len(MULTIPART) and found[1][b"INTERNALDATE"].year >= 2025


async def test_fetch_envelope(imapclient, mailbox: TestUser) -> None:
    client = imapclient(mailbox)
    client.select_folder("INBOX")
    envelope = client.fetch([1], ["ENVELOPE"])[1][b"ENVELOPE"]
    assert envelope.subject == b"Rapport" and envelope.message_id == b"<r1@example.org>"
    assert [(a.name, a.mailbox, a.host) for a in envelope.to] == [
        (None, b"bob", b"example.org"),
        (b"Carol", b"carol", b"example.org"),
    ]
    assert envelope.from_[0].name == b"Alice" and envelope.sender == envelope.from_ and envelope.cc is None


async def test_fetch_bodystructure_and_body(raw, mailbox: TestUser) -> None:
    client = raw(mailbox)
    client.command(b"s", b"SELECT INBOX")
    [line, _] = client.command(b"a", b"FETCH 1 (BODYSTRUCTURE BODY)")
    assert line == (
        b'* 1 FETCH (BODYSTRUCTURE (("text" "plain" ("charset" "utf-8") NIL NIL "7bit" 7 0 NIL NIL NIL NIL)'
        b'("application" "pdf" ("name" "r.pdf") NIL NIL "base64" 12 NIL ("attachment" ("filename" "r.pdf"))'
        b' NIL NIL) "mixed" ("boundary" "XX") NIL NIL NIL) BODY (("text" "plain" ("charset" "utf-8") NIL NIL'
        b' "7bit" 7 0)("application" "pdf" ("name" "r.pdf") NIL NIL "base64" 12) "mixed"))'
    )


async def test_fetch_sections_and_partial(imapclient, mailbox: TestUser) -> None:
    client = imapclient(mailbox)
    client.select_folder("INBOX", readonly=True)
    header_end = MULTIPART.index(b"\r\n\r\n") + 4
    found = client.fetch(
        [1],
        [
            "BODY.PEEK[]",
            "BODY.PEEK[HEADER]",
            "BODY.PEEK[TEXT]",
            "BODY.PEEK[1]",
            "BODY.PEEK[2.MIME]",
            "BODY.PEEK[2]<0.4>",
            "BODY.PEEK[HEADER.FIELDS (SUBJECT TO)]",
            "BODY.PEEK[HEADER.FIELDS.NOT (SUBJECT TO FROM DATE MESSAGE-ID MIME-VERSION)]",
            "RFC822.HEADER",
            "BODY.PEEK[3]",
            "BODY.PEEK[]<100000>",
        ],
    )[1]
    assert found[b"BODY[]"] == MULTIPART and found[b"BODY[HEADER]"] == MULTIPART[:header_end]
    assert found[b"BODY[TEXT]"] == MULTIPART[header_end:] and found[b"BODY[1]"] == b"Bonjour"
    assert found[b"BODY[2.MIME]"].startswith(b"Content-Type: application/pdf") and found[b"BODY[2]<0>"] == b"JVBE"
    assert found[b"BODY[HEADER.FIELDS (SUBJECT TO)]"] == (
        b"To: bob@example.org, Carol <carol@example.org>\r\nSubject: Rapport\r\n\r\n"
    )
    assert found[b"BODY[HEADER.FIELDS.NOT (SUBJECT TO FROM DATE MESSAGE-ID MIME-VERSION)]"] == (
        b"Content-Type: multipart/mixed; boundary=XX\r\n\r\n"
    )
    assert found[b"RFC822.HEADER"] == MULTIPART[:header_end]
    assert found[b"BODY[3]"] == b"" and found[b"BODY[]<100000>"] == b""


async def test_fetch_body_sets_seen_and_peek_does_not(imapclient, mailbox: TestUser) -> None:
    client = imapclient(mailbox)
    client.select_folder("INBOX")
    client.fetch([1], ["BODY.PEEK[]"])
    assert client.get_flags([1])[1] == (b"\\Recent",)
    found = client.fetch([1], ["BODY[TEXT]"])[1]
    assert found[b"FLAGS"] == (b"\\Seen", b"\\Recent")  # announced with the body
    assert client.get_flags([1])[1] == (b"\\Seen", b"\\Recent")


async def test_fetch_in_examine_never_sets_seen(imapclient, mailbox: TestUser) -> None:
    client = imapclient(mailbox)
    client.select_folder("INBOX", readonly=True)
    client.fetch([1], ["RFC822"])
    client.select_folder("INBOX")
    assert client.get_flags([1])[1] == (b"\\Recent",)  # EXAMINE did not claim it either


async def test_fetch_macros_and_modseq(raw, mailbox: TestUser) -> None:
    client = raw(mailbox)
    client.command(b"s", b"SELECT INBOX")
    fast = client.command(b"a", b"FETCH 2 FAST")[0]
    assert fast.startswith(b"* 2 FETCH (FLAGS (\\Flagged \\Recent $Work) INTERNALDATE ") and b"RFC822.SIZE" in fast
    assert b"ENVELOPE" in client.command(b"b", b"FETCH 1 ALL")[0]
    full = client.command(b"c", b"FETCH 1 FULL")[0]
    assert b"ENVELOPE" in full and b" BODY (" in full
    changed = client.command(b"d", b"UID FETCH 1:* (FLAGS) (CHANGEDSINCE 1)")
    # CHANGEDSINCE turns CONDSTORE on, which reports the folder's HIGHESTMODSEQ first (RFC 7162 3.1)
    assert changed[0].startswith(b"* OK [HIGHESTMODSEQ ") and len(changed) == 4
    assert all(b"MODSEQ (" in line for line in changed[1:-1])


async def test_fetch_sequence_numbers_out_of_range_are_refused(raw, mailbox: TestUser) -> None:
    client = raw(mailbox)
    client.command(b"s", b"SELECT INBOX")
    assert client.command(b"a", b"FETCH 5 FLAGS")[-1].startswith(b"a BAD")
    assert client.command(b"b", b"UID FETCH 5:9 FLAGS") == [b"b OK FETCH completed"]
    assert client.command(b"c", b"UID FETCH 9:* UID")[0] == b"* 2 FETCH (UID 2)"  # "n:*" reaches the last
    assert client.command(b"d", b"FETCH 1 (BODY[BOGUS])")[-1].startswith(b"d BAD")
    assert client.command(b"e", b"FETCH 1 (NOTANITEM)")[-1].startswith(b"e BAD")


async def test_fetch_large_message_comes_back_whole_among_small_ones(imapclient, user: TestUser) -> None:
    body = "".join(f"ligne {i} " + "x" * 70 + "\n" for i in range(30_000))  # about 2.4 MB: streamed
    large, small = make_message(body=body), make_message(body="petit")
    await deliver(user, small)
    await deliver(user, large)
    await deliver(user, small)
    client = imapclient(user)
    client.select_folder("INBOX")
    found = client.fetch([1, 2, 3], ["UID", "BODY.PEEK[]", "RFC822.SIZE", "FLAGS"])
    assert [found[uid][b"BODY[]"] for uid in (1, 2, 3)] == [small, large, small]
    assert found[2][b"RFC822.SIZE"] == len(large) and found[2][b"FLAGS"] == (b"\\Recent",)
    assert client.fetch([2], ["BODY[]"])[2][b"FLAGS"] == (b"\\Seen", b"\\Recent")


# --- the corpus ----------------------------------------------------------------------------


def _well_formed(path: Path) -> bool:
    return "malformed" not in path.parts and not any(
        p.defects for p in email.message_from_bytes(path.read_bytes(), policy=compat32).walk()
    )


def _reference_leaves(part: email.message.Message) -> list[email.message.Message]:
    """Leaves as IMAP numbers them: multiparts and message/rfc822 are opened."""
    if part.get_content_type() == "message/rfc822" and part.is_multipart():
        return [leaf for inner in part.get_payload() for leaf in _reference_leaves(inner)]
    if part.get_content_maintype() == "multipart" and part.is_multipart():
        return [leaf for child in part.get_payload() for leaf in _reference_leaves(child)]
    return [part]


def _children(structure: Any) -> list[Any] | None:
    """A multipart's parts: IMAPClient gives them as a list at the top and as the leading
    tuples of an encapsulated message's body."""
    if isinstance(structure[0], list):
        return structure[0]
    if isinstance(structure[0], tuple):
        return list(itertools.takewhile(lambda item: isinstance(item, tuple), structure))
    return None


def _imap_leaves(structure: Any, path: tuple[int, ...] = ()) -> list[tuple[str, Any]]:
    """(part number, BODYSTRUCTURE) of each leaf, from IMAPClient's parsed BODYSTRUCTURE."""
    if (parts := _children(structure)) is not None:
        return [leaf for i, part in enumerate(parts, 1) for leaf in _imap_leaves(part, (*path, i))]
    if structure[0].lower() == b"message" and structure[1].lower() == b"rfc822":
        inner = structure[8]
        if (parts := _children(inner)) is not None:
            return [leaf for i, part in enumerate(parts, 1) for leaf in _imap_leaves(part, (*path, i))]
        return _imap_leaves(inner, (*path, 1))
    return [(".".join(map(str, path or (1,))), structure)]


def _decode(data: bytes, encoding: bytes) -> bytes:
    """A section's content decoded with the standard library's own transfer decoders."""
    part = email.message_from_bytes(b"Content-Transfer-Encoding: " + encoding + b"\r\n\r\n" + data, policy=compat32)
    return part.get_payload(decode=True) or b""


def _normal(data: bytes) -> bytes:
    return data.replace(b"\r\n", b"\n").rstrip(b"\n")


WELL_FORMED = [p for p in CORPUS_FILES if _well_formed(p)]


def on_the_wire(path: Path) -> bytes:
    """The message as a client APPENDs it: with CRLF line ends (imaplib converts)."""
    return re.sub(rb"\r\n|\r|\n", b"\r\n", path.read_bytes())


async def test_fetch_corpus_sections_agree_with_the_standard_library(imapclient) -> None:
    assert len(WELL_FORMED) > 50
    user = await make_mail_user()
    client: IMAPClient = imapclient(user)
    for path in CORPUS_FILES:  # the malformed ones too: stored and served without error
        client.append("INBOX", on_the_wire(path))
    client.select_folder("INBOX", readonly=True)
    uids = client.search("ALL")
    assert len(uids) == len(CORPUS_FILES)
    found = client.fetch(uids, ["BODYSTRUCTURE", "ENVELOPE", "RFC822.SIZE", "BODY.PEEK[]"])
    for uid, path in zip(sorted(uids), CORPUS_FILES, strict=True):
        raw_message = on_the_wire(path)
        item = found[uid]
        served = raw_message.replace(b"\0", b"\x80")  # a literal holds no NUL (RFC 3501 9)
        assert item[b"BODY[]"] == served and item[b"RFC822.SIZE"] == len(raw_message), path
        if path not in WELL_FORMED:
            continue
        reference = _reference_leaves(email.message_from_bytes(served, policy=compat32))
        leaves = _imap_leaves(item[b"BODYSTRUCTURE"])
        assert [(s[0] + b"/" + s[1]).lower().decode() for _, s in leaves] == [
            p.get_content_type() for p in reference
        ], path
        sections = client.fetch([uid], [f"BODY.PEEK[{number}]" for number, _ in leaves])[uid]
        for (number, structure), part in zip(leaves, reference, strict=True):
            data = sections[f"BODY[{number}]".encode()]
            assert structure[6] == len(data), (path, number)  # the octet count is the section's size
            if not part.is_multipart():  # email opens message/external-body too; IMAP does not
                if part["content-transfer-encoding"]:  # email misses "base64  " with trailing blanks
                    part.replace_header("content-transfer-encoding", str(part["content-transfer-encoding"]).strip())
                expected = part.get_payload(decode=True) or b""
                assert _normal(_decode(data, structure[5])) == _normal(expected), (path, number)
        subject = email.message_from_bytes(raw_message, policy=compat32)["subject"]
        if isinstance(subject, str) and "\n" not in subject and subject.isascii():
            assert item[b"ENVELOPE"].subject == subject.strip().encode(), path
