"""MIME parsing at delivery: the structure's byte offsets agree with the standard
library's view of every corpus message, no input makes the parser raise, and a large
message of any shape is parsed in a bounded amount of memory."""

from __future__ import annotations

import base64
import email
import gc
import json
import quopri
import re
import tracemalloc
from collections.abc import Callable
from email.policy import compat32
from pathlib import Path
from typing import TypeVar

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hexagone.mail import mime, rawtext
from hexagone.mail.mimetext import strip_tags
from tests.mail.factories import make_message
from tests.mail.imap.differential.harness import CORPUS

CORPUS_FILES = sorted(CORPUS.rglob("*.eml"))
T = TypeVar("T")


def test_corpus_is_present() -> None:
    assert len(CORPUS_FILES) > 100


@pytest.mark.parametrize("path", CORPUS_FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_mime_corpus_message_parses_into_json_with_consistent_offsets(path: Path) -> None:
    raw = path.read_bytes()
    parsed = mime.parse(raw)
    json.dumps(parsed.structure), json.dumps(parsed.envelope)
    assert parsed.header == raw[: parsed.structure["body_start"]]

    def check(node: dict, start: int, end: int) -> None:
        assert start <= node["header_start"] <= node["body_start"] <= node["end"] <= end
        body = raw[node["body_start"] : node["end"]]
        assert node["size"] == len(body) + body.count(b"\n") - body.count(b"\r\n")  # as sent with CRLF
        for part in node.get("parts", []):
            check(part, node["body_start"], node["end"])
        if "message" in node:
            check(node["message"], node["body_start"], node["end"])

    check(parsed.structure, 0, len(raw))


def _well_formed(path: Path) -> bool:
    reference = email.message_from_bytes(path.read_bytes(), policy=compat32)
    return not any(part.defects for part in reference.walk())


def _reference_leaves(part: email.message.Message) -> list[email.message.Message]:
    """The leaves as IMAP sees them: only message/rfc822 is opened, not external-body
    or partial (which ``email`` parses as messages too)."""
    if part.get_content_type() == "message/rfc822" and part.is_multipart():
        return [leaf for inner in part.get_payload() for leaf in _reference_leaves(inner)]
    if part.get_content_maintype() == "multipart" and part.is_multipart():
        return [leaf for child in part.get_payload() for leaf in _reference_leaves(child)]
    return [part]


def _our_leaves(node: dict) -> list[dict]:
    return [
        leaf
        for top in mime.leaves(node)
        for leaf in (_our_leaves(top["message"]) if "message" in top and top["subtype"] == "rfc822" else [top])
    ]


WELL_FORMED = [p for p in CORPUS_FILES if "malformed" not in p.parts and _well_formed(p)]


def test_corpus_has_well_formed_messages() -> None:
    assert len(WELL_FORMED) > 50


@pytest.mark.parametrize("path", WELL_FORMED, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_mime_leaves_match_the_standard_library(path: Path) -> None:
    """Our boundary walk finds the same leaf parts as ``email`` does for well-formed mail,
    and each text part decodes to the same bytes."""
    raw = path.read_bytes()
    expected = _reference_leaves(email.message_from_bytes(raw, policy=compat32))
    ours = _our_leaves(mime.parse(raw).structure)
    assert [n["type"] + "/" + n["subtype"] for n in ours] == [p.get_content_type() for p in expected]
    for node, part in zip(ours, expected, strict=True):
        if part.get_content_maintype() == "text":
            ours_text = mime.decode_part(raw, node).replace(b"\r\n", b"\n")
            assert ours_text == (part.get_payload(decode=True) or b"").replace(b"\r\n", b"\n")


def test_mime_attachment_and_text_are_found() -> None:
    raw = make_message(
        subject="=?utf-8?q?R=C3=A9union?=",
        body="Ordre du jour\n",
        attachments=(("compte-rendu.pdf", b"%PDF-1.4 test", "application/pdf"),),
    )
    parsed = mime.parse(raw)
    assert parsed.has_attachments
    assert "Ordre du jour" in parsed.text
    [_, attachment] = mime.leaves(parsed.structure)
    assert mime.filename_of(attachment) == "compte-rendu.pdf"
    assert mime.decode_part(raw, attachment) == b"%PDF-1.4 test"


def test_mime_reply_headers_are_kept_for_threading() -> None:
    parsed = mime.parse(make_message(message_id="<b@x>", in_reply_to="<a@x>"))
    assert (parsed.message_id, parsed.in_reply_to, parsed.references) == ("<b@x>", "<a@x>", ["<a@x>"])


_header_line = st.builds(
    lambda k, v: k + b": " + v,
    st.sampled_from([b"Content-Type", b"Subject", b"From", b"To", b"Content-Transfer-Encoding", b"X-Test"]),
    st.binary(max_size=80),
)
_chunks = st.one_of(
    st.binary(max_size=200),
    st.sampled_from(
        [
            b"\r\n",
            b"\n\n",
            b"--b\r\n",
            b"--b--\r\n",
            b"Content-Type: multipart/mixed; boundary=b\r\n",
            b"Content-Type: message/rfc822\r\n\r\n",
            b"=?utf-8?b?w6k=?=",
            b"\xff\xfe\x00",
        ]
    ),
    _header_line,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_chunks, max_size=30))
def test_mime_parse_never_raises_and_offsets_stay_inside(chunks: list[bytes]) -> None:
    raw = b"".join(chunks)
    parsed = mime.parse(raw)
    json.dumps(parsed.structure)
    for leaf in mime.leaves(parsed.structure):
        assert 0 <= leaf["header_start"] <= leaf["body_start"] <= leaf["end"] <= len(raw)


@pytest.mark.parametrize("encoding", ["utf-8", "latin-1"])
def test_mime_raw_8bit_headers_are_read_as_text_and_kept_as_bytes_in_the_envelope(encoding: str) -> None:
    raw = "From: Zoé <zoe@exemple.fr>\r\nSubject: café crème\r\n\r\ncorps\r\n".encode(encoding)
    parsed = mime.parse(raw)
    assert parsed.subject == "café crème"
    assert parsed.from_addr == "Zoé <zoe@exemple.fr>"
    assert rawtext.to_bytes(parsed.envelope["subject"]) == "café crème".encode(encoding)
    [[name, route, mailbox, host]] = parsed.envelope["from"]
    assert (rawtext.to_bytes(name), route, mailbox, host) == ("Zoé".encode(encoding), None, "zoe", "exemple.fr")


# --- large messages: memory (issue 13) -------------------------------------------------------

MIB = 1 << 20
LARGE = 24 * MIB
_HEAD = b"From: Zoe <zoe@example.net>\r\nTo: bob@example.org\r\nSubject: gros\r\nMessage-ID: <big@example.net>\r\n"
_PROSE = "Le comité s'est réuni à l'hôtel de ville ; l'ordre du jour était chargé.".encode()


def _fill(unit: bytes, size: int) -> bytes:
    return (unit * (size // len(unit) + 1))[:size]


def _numbered_text(size: int) -> str:
    """Lines that differ from each other, so that a text cut or shifted anywhere shows."""
    line = "ligne {:07d} : café crème, à l'hôtel de ville.\n"
    return "".join(line.format(i) for i in range(size // len(line.format(0)) + 1))


def _single(content_type: bytes, body: bytes, encoding: bytes = b"8bit") -> bytes:
    return _HEAD + b"Content-Type: " + content_type + b"\r\nContent-Transfer-Encoding: " + encoding + b"\r\n\r\n" + body


def _base64_attachment(size: int) -> bytes:
    lines = _fill(base64.b64encode(bytes(range(256)) * 3)[:76] + b"\r\n", size)
    return (
        _HEAD + b'Content-Type: multipart/mixed; boundary="b1"\r\n\r\n--b1\r\nContent-Type: text/plain\r\n\r\n'
        b'Voici.\r\n--b1\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename="a.pdf"\r\n'
        b"Content-Transfer-Encoding: base64\r\n\r\n" + lines + b"--b1--\r\n"
    )


def _many_parts(size: int, count: int = 10_000) -> bytes:
    part = b"--b1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" + _fill(_PROSE + b"\r\n", size // count) + b"\r\n"
    return _HEAD + b'Content-Type: multipart/mixed; boundary="b1"\r\n\r\n' + part * count + b"--b1--\r\n"


LARGE_SHAPES = {
    "base64-attachment": lambda: _base64_attachment(LARGE),
    "quoted-printable-text": lambda: _single(
        b"text/plain; charset=utf-8",
        quopri.encodestring(_fill(_PROSE + b"\n", LARGE // 2)).replace(b"\n", b"\r\n"),
        b"quoted-printable",
    ),
    "8bit-text": lambda: _single(b"text/plain; charset=utf-8", _fill(_PROSE + b"\r\n", LARGE)),
    "html": lambda: _single(
        b"text/html; charset=utf-8", _fill(b"<div><b>" + _PROSE + b"</b><style>p{}</style></div>", LARGE)
    ),
    "thousands-of-parts": lambda: _many_parts(LARGE),
    "nul-bytes": lambda: _single(b"text/plain", _fill(b"\x00" * 40 + _PROSE + b"\r\n", LARGE)),
    "boundary-never-found": lambda: (
        _HEAD + b'Content-Type: multipart/mixed; boundary="jamais"\r\n\r\n' + _fill(_PROSE + b"\r\n", LARGE)
    ),
    "header-without-end": lambda: _HEAD + _fill(b"X-Filler: " + _PROSE + b"\r\n", LARGE),
}


def _peak_and_result(operation: Callable[[], T]) -> tuple[int, T]:
    """The most memory ``operation`` held at once beyond what was held before it, and what
    it returned."""
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        result = operation()
        return tracemalloc.get_traced_memory()[1] - before, result
    finally:
        tracemalloc.stop()


def _peak(operation: Callable[[], object]) -> int:
    return _peak_and_result(operation)[0]


@pytest.mark.parametrize("shape", LARGE_SHAPES)
def test_mime_parse_of_a_large_message_holds_less_than_half_its_size(shape: str) -> None:
    """Parsing at delivery once cost ten times the message (issue 13); whatever the shape,
    it now holds no copy of the message, only a bounded working set."""
    raw = LARGE_SHAPES[shape]()
    peak, parsed = _peak_and_result(lambda: mime.parse(raw))
    assert peak < len(raw) / 2, f"{peak / MIB:.1f} MiB for {len(raw) / MIB:.1f} MiB"
    assert parsed.subject == "gros"
    assert parsed.header == raw[: parsed.structure["body_start"]]


@pytest.mark.parametrize("encoding", ["8bit", "quoted-printable", "base64"])
def test_mime_text_of_a_huge_part_is_its_first_characters(encoding: str) -> None:
    """Only the start of a huge text part is decoded, and it reads as the whole part does."""
    text = _numbered_text(8 * MIB)
    body = text.replace("\n", "\r\n").encode()
    if encoding == "quoted-printable":
        body = quopri.encodestring(text.encode()).replace(b"\n", b"\r\n")
    elif encoding == "base64":
        body = base64.encodebytes(text.encode()).replace(b"\n", b"\r\n")
    raw = _single(b"text/plain; charset=utf-8", body, encoding.encode())
    parsed = mime.parse(raw)
    expected = mime.part_text(raw, parsed.structure)  # the whole part, decoded
    assert expected.replace("\r\n", "\n") == text
    assert parsed.text == expected[: mime.TEXT_LIMIT]
    assert parsed.preview == " ".join(expected[: mime.PREVIEW_LENGTH * 2].split())[: mime.PREVIEW_LENGTH]


def test_mime_text_of_thousands_of_parts_joins_the_first_ones() -> None:
    raw = _many_parts(4 * MIB, count=4000)
    parsed = mime.parse(raw)
    part_text = _fill(_PROSE + b"\r\n", MIB // 1000).decode()
    assert parsed.text == "\n".join([part_text] * 4000)[: mime.TEXT_LIMIT]


def test_mime_header_without_end_is_stored_whole_and_read_up_to_the_limit() -> None:
    """A message that is all header (no blank line) keeps every byte for BODY[HEADER];
    fields past HEADER_LIMIT are not read (a Subject there is not the subject)."""
    filler = _fill(b"X-Filler: " + _PROSE + b"\r\n", 2 * mime.HEADER_LIMIT)
    raw = b"From: zoe@example.net\r\n" + filler + b"Subject: trop loin\r\n"
    parsed = mime.parse(raw)
    assert parsed.header == raw
    assert (parsed.from_addr, parsed.subject) == ("zoe@example.net", "")


def test_mime_nul_bytes_are_left_out_of_the_text() -> None:
    parsed = mime.parse(_single(b"text/plain", b"\x00" * 10 + b"avant\x00apr\xc3\xa8s\r\n" * 100_000))
    assert parsed.text.startswith("avantaprès\r\navantaprès")
    assert "\x00" not in parsed.text


def test_mime_decoding_a_large_attachment_holds_less_than_twice_its_size() -> None:
    """A download of a 24 MiB base64 attachment once held nine copies of it; now the
    joined text and the decoded bytes, as ``email`` decodes them."""
    raw = _base64_attachment(LARGE)
    attachment = mime.leaves(mime.parse(raw).structure)[-1]
    decoded = mime.decode_part(raw, attachment)
    assert decoded == email.message_from_bytes(raw, policy=compat32).get_payload()[1].get_payload(decode=True)
    del decoded
    assert _peak(lambda: mime.decode_part(raw, attachment)) < 2 * LARGE


@settings(max_examples=500, deadline=None)
@given(
    st.lists(
        st.sampled_from([b"QUJD", b"RA", b"=", b"==", b"\r\n", b"\n", b"\r", b"*", b" ", b"-", b"w6k"]), max_size=20
    )
)
def test_mime_base64_is_decoded_as_email_decodes_it(pieces: list[bytes]) -> None:
    body = b"".join(pieces)
    raw = b"Content-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n" + body
    expected = email.message_from_bytes(raw, policy=compat32).get_payload(decode=True)
    assert mime.decode_part(raw, mime.parse(raw).structure) == expected


def test_mime_text_with_a_lone_surrogate_in_utf7_is_stored_with_a_replacement() -> None:
    """UTF-7 can encode half a surrogate pair: parse raised on it, so a delivery failed."""
    parsed = mime.parse(b"Subject: =?utf-7?q?+2AA-?=\r\nContent-Type: text/plain; charset=utf-7\r\n\r\n+2AA-abc\r\n")
    assert (parsed.subject, parsed.text) == ("\ufffd", "\ufffdabc\r\n")


# --- tags out of HTML ------------------------------------------------------------------------

_TAGS = re.compile(r"<(script|style)\b.*?</\1\s*>|<[^>]*>", re.S | re.I)
_html_atoms = st.sampled_from(
    [
        "<",
        ">",
        "<script>",
        "</script>",
        "<STYLE x>",
        "</style >",
        "</Style\n>",
        "<ſcript>",
        "</ſcript>",
        "</script",
        "<scripts>",
        "a",
        " ",
        "\n",
        "<b>",
        "</b>",
        "<style",
        "é",
    ]
)


@settings(max_examples=2000, deadline=None)
@given(st.lists(_html_atoms, max_size=30))
def test_strip_tags_gives_what_the_regular_expression_gives(atoms: list[str]) -> None:
    html = "".join(atoms)
    assert strip_tags(html) == _TAGS.sub(" ", html)


@pytest.mark.parametrize("hostile", ["<style>", "<script x>", "<"])
def test_strip_tags_of_a_megabyte_of_unclosed_tags_finishes(hostile: str) -> None:
    """The regular expression scans to the end of the text for each unclosed opening
    (about an hour for this megabyte, sent by anyone to port 25); each is tried once."""
    html = hostile * (MIB // len(hostile))
    assert strip_tags(html) == (" " * len(html.split(">")[:-1]) if ">" in hostile else html)
