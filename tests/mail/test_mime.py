"""MIME parsing at delivery: the structure's byte offsets agree with the standard
library's view of every corpus message, and no input makes the parser raise."""

from __future__ import annotations

import email
import json
from email.policy import compat32
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hexagone.mail import mime
from tests.mail.factories import make_message

CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpus" / "mail"
CORPUS_FILES = sorted(CORPUS.rglob("*.eml"))


def test_corpus_is_present() -> None:
    assert len(CORPUS_FILES) > 100


@pytest.mark.parametrize("path", CORPUS_FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_mime_corpus_message_parses_into_json_with_consistent_offsets(path: Path) -> None:
    raw = path.read_bytes()
    parsed = mime.parse(raw)
    json.dumps(parsed.structure), json.dumps(parsed.envelope)
    assert parsed.header == raw[:parsed.structure["body_start"]]

    def check(node: dict, start: int, end: int) -> None:
        assert start <= node["header_start"] <= node["body_start"] <= node["end"] <= end
        assert node["size"] == node["end"] - node["body_start"]
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
    return [leaf for top in mime.leaves(node)
            for leaf in (_our_leaves(top["message"]) if "message" in top and top["subtype"] == "rfc822" else [top])]


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
    raw = make_message(subject="=?utf-8?q?R=C3=A9union?=", body="Ordre du jour\n",
                       attachments=(("compte-rendu.pdf", b"%PDF-1.4 test", "application/pdf"),))
    parsed = mime.parse(raw)
    assert parsed.has_attachments
    assert "Ordre du jour" in parsed.text
    [_, attachment] = mime.leaves(parsed.structure)
    assert mime.filename_of(attachment) == "compte-rendu.pdf"
    assert mime.decode_part(raw, attachment) == b"%PDF-1.4 test"


def test_mime_reply_headers_are_kept_for_threading() -> None:
    parsed = mime.parse(make_message(message_id="<b@x>", in_reply_to="<a@x>"))
    assert (parsed.message_id, parsed.in_reply_to, parsed.references) == ("<b@x>", "<a@x>", ["<a@x>"])


_header_line = st.builds(lambda k, v: k + b": " + v, st.sampled_from([b"Content-Type", b"Subject", b"From", b"To",
                                                                      b"Content-Transfer-Encoding", b"X-Test"]),
                         st.binary(max_size=80))
_chunks = st.one_of(st.binary(max_size=200), st.sampled_from([b"\r\n", b"\n\n", b"--b\r\n", b"--b--\r\n",
                    b"Content-Type: multipart/mixed; boundary=b\r\n", b"Content-Type: message/rfc822\r\n\r\n",
                    b"=?utf-8?b?w6k=?=", b"\xff\xfe\x00"]), _header_line)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_chunks, max_size=30))
def test_mime_parse_never_raises_and_offsets_stay_inside(chunks: list[bytes]) -> None:
    raw = b"".join(chunks)
    parsed = mime.parse(raw)
    json.dumps(parsed.structure)
    for leaf in mime.leaves(parsed.structure):
        assert 0 <= leaf["header_start"] <= leaf["body_start"] <= leaf["end"] <= len(raw)


@pytest.mark.parametrize("encoding", ["utf-8", "latin-1"])
def test_mime_raw_8bit_headers_are_read_as_text(encoding: str) -> None:
    raw = "From: Zoé <zoe@exemple.fr>\r\nSubject: café crème\r\n\r\ncorps\r\n".encode(encoding)
    parsed = mime.parse(raw)
    assert parsed.subject == parsed.envelope["subject"] == "café crème"
    assert parsed.from_addr == "Zoé <zoe@exemple.fr>"
    assert parsed.envelope["from"] == [["Zoé", None, "zoe", "exemple.fr"]]
