"""BODYSTRUCTURE and the MIME tree, rule by rule (issue 16, "MIME parsing" and
"BODYSTRUCTURE"): each test names a rule Dovecot 2.3 follows and clients rely on; the
differential test (``differential/test_bodystructure.py``) checks the same against a
running Dovecot on whole messages."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from hexagone.mail import mime, rawtext
from hexagone.mail.imap.arguments import Args
from hexagone.mail.imap.fetch import parse_fetch, prerender
from hexagone.mail.imap.parser import Atom
from hexagone.mail.imap.rendered import cache
from hexagone.mail.imap.structure import Section, body_structure
from tests.mail.imap.differential.mime_cases import MIME, MIME_CASES


def structure_of(raw: bytes) -> bytes:
    return body_structure(mime.parse(raw).structure)


def single(content_type: bytes, extra: bytes = b"", body: bytes = b"hello\r\n") -> bytes:
    return MIME + b"Content-Type: " + content_type + b"\r\n" + extra + b"\r\n" + body


def test_bodystructure_text_part_without_charset_reports_us_ascii() -> None:
    assert structure_of(single(b"text/html")).startswith(b'("text" "html" ("charset" "us-ascii") NIL NIL "7bit" 7 1')
    assert structure_of(single(b"text/plain; format=flowed")).startswith(
        b'("text" "plain" ("format" "flowed" "charset" "us-ascii")'
    )
    assert structure_of(single(b"image/png")).startswith(b'("image" "png" NIL NIL NIL "7bit" 7 NIL')


def test_bodystructure_type_params_and_encoding_are_sent_as_written() -> None:
    raw = single(b'TEXT/Plain; CharSet="UTF-8"', b"Content-Transfer-Encoding: Quoted-Printable\r\n")
    assert structure_of(raw).startswith(b'("TEXT" "Plain" ("CharSet" "UTF-8") NIL NIL "Quoted-Printable" 7 1')


def test_bodystructure_encoding_defaults_to_7bit_in_lower_case() -> None:
    assert b' NIL NIL "7bit" 7 1 ' in structure_of(single(b"text/plain"))


def test_bodystructure_folded_quoted_parameter_loses_its_crlf_and_keeps_the_space() -> None:
    raw = single(b'application/pdf;\r\n name="a long\r\n name.pdf"')
    assert b'("name" "a long name.pdf")' in structure_of(raw)


def test_bodystructure_text_line_count_excludes_the_crlf_before_the_boundary() -> None:
    [first, second] = mime.parse(MIME_CASES["line-count-excludes-the-crlf-before-the-boundary"]).structure["parts"]
    assert (first["size"], first["lines"]) == (8, 1)  # "one\r\ntwo"
    assert (second["size"], second["lines"]) == (9, 2)  # "three\r\n\r\n"


def test_bodystructure_size_counts_a_bare_line_feed_as_crlf() -> None:
    node = mime.parse(b"Subject: lf\n\nline one\nline two\n").structure
    assert (node["size"], node["lines"]) == (20, 2)


def test_bodystructure_body_language_is_always_a_list() -> None:
    assert structure_of(single(b"text/plain", b"Content-Language: fr\r\n")).endswith(b' NIL NIL ("fr") NIL)')
    assert structure_of(single(b"text/plain", b"Content-Language: fr, en-US (US)\r\n")).endswith(
        b' NIL NIL ("fr" "en-US") NIL)'
    )


def test_bodystructure_rfc2231_pieces_are_joined_and_passed_through_undecoded() -> None:
    raw = MIME_CASES["rfc2231-joined-undecoded"]
    found = structure_of(raw)
    assert b'("name*" "utf-8\'\'r%C3%A9s u%C3%A9.txt")' in found
    assert b'("attachment" ("filename*" "iso-8859-1\'fr\'ann%E9e.txt"))' in found
    node = mime.parse(raw).structure
    assert mime.filename_of(node) == "année.txt"


def test_bodystructure_rfc2231_pieces_with_a_gap_are_given_one_by_one() -> None:
    assert b'("name*0" "a" "name*2" "c")' in structure_of(single(b"application/octet-stream; name*0=a; name*2=c"))


def test_bodystructure_raw_8bit_header_bytes_are_passed_through() -> None:
    raw = MIME_CASES["raw-8bit-param-passed-through"]
    found = structure_of(raw)
    assert b'("name" {9}\r\ncaf\xc3\xa9.txt)' in found
    assert b'("filename" {10}\r\nr\xe9sum\xe9.txt)' in found
    description = b" {25}\r\ncaf\xc3\xa9 cr\xe8me =?utf-8?q?x?= "
    assert description in structure_of(MIME_CASES["raw-8bit-description-passed-through"])
    node = mime.parse(raw).structure
    assert mime.filename_of(node) == "résumé.txt"  # read as Latin-1 for people


def test_bodystructure_multipart_whose_boundary_never_comes_has_one_empty_text_part() -> None:
    raw = MIME_CASES["boundary-never-found-gives-an-empty-part"]
    assert structure_of(raw) == (
        b'(("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 0 0 NIL NIL NIL NIL) "mixed" ("boundary" "never")'
        b" NIL NIL NIL)"
    )
    assert body_structure(mime.parse(raw).structure, False) == (
        b'(("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 0 0) "mixed")'
    )
    assert Section.parse("1").extract(mime.parse(raw).structure, raw) == b""


def test_mime_nested_boundaries_sharing_a_prefix_split_on_the_longest() -> None:
    raw = (
        MIME + b'Content-Type: multipart/mixed; boundary="outer"\r\n\r\n'
        b'--outer\r\nContent-Type: multipart/alternative; boundary="outer-inner"\r\n\r\n'
        b"--outer-inner\r\n\r\nplain\r\n--outer-inner\r\nContent-Type: text/html\r\n\r\nhtml\r\n--outer-inner--\r\n"
        b"--outer\r\n\r\nsecond\r\n--outer--\r\n"
    )
    structure = mime.parse(raw).structure
    assert [Section.parse(n).extract(structure, raw) for n in ("1.1", "1.2", "2")] == [b"plain", b"html", b"second"]


def test_mime_boundary_of_an_enclosing_multipart_closes_the_inner_one() -> None:
    """Once the outer boundary came, the inner one is forgotten: a later line of the inner
    boundary is the outer one's (it starts with it), as Dovecot splits it."""
    raw = MIME_CASES["nested-prefix-longest-wins"]
    structure = mime.parse(raw).structure
    assert [Section.parse(n).extract(structure, raw) for n in ("1.1", "2", "3")] == [b"a", b"b", b"c"]


def test_mime_boundary_is_a_prefix_of_the_line() -> None:
    raw = MIME_CASES["boundary-with-trailing-text-still-splits"]
    structure = mime.parse(raw).structure
    assert [Section.parse(str(n)).extract(structure, raw) for n in (1, 2)] == [b"one", b"two"]


def test_mime_long_boundary_is_cut_at_80_characters() -> None:
    raw = MIME + b"Content-Type: multipart/mixed; boundary=" + b"b" * 90 + b"\r\n\r\n--" + b"b" * 80 + b"\r\n\r\nx\r\n"
    assert Section.parse("1").extract(mime.parse(raw).structure, raw) == b"x\r\n"


def test_mime_boundary_line_in_a_part_header_ends_the_header() -> None:
    raw = MIME_CASES["outer-boundary-in-part-header"]
    structure = mime.parse(raw).structure
    assert Section.parse("1.MIME").extract(structure, raw) == b"Content-Type: text/plain"
    assert Section.parse("2").extract(structure, raw) == b"after"


def test_mime_boundary_right_after_the_blank_line_takes_its_line_feed() -> None:
    raw = MIME_CASES["outer-boundary-right-after-blank-line"]
    structure = mime.parse(raw).structure
    assert Section.parse("1.MIME").extract(structure, raw) == b"Content-Type: text/plain\r\n"


def test_mime_content_fields_outside_mime_are_ignored() -> None:
    found = structure_of(MIME_CASES["content-fields-outside-mime-ignored"])
    assert found == b'("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 10 1 NIL NIL NIL NIL)'


def test_bodystructure_broken_content_type_is_reported_as_dovecot_does() -> None:
    assert structure_of(single(b"text")).startswith(b'("text" "" ("charset" "us-ascii")')
    assert structure_of(single(b"text/html junk")).startswith(b'("" "" NIL NIL NIL "7bit" 7 NIL')


def test_bodystructure_message_rfc822_size_counts_its_header_and_body() -> None:
    raw = MIME_CASES["message-rfc822-size-and-lines"]
    message = mime.parse(raw).structure["parts"][1]
    inner = raw[message["body_start"] : message["end"]]
    assert message["size"] == len(inner) and message["lines"] == inner.count(b"\n")
    assert message["envelope"]["subject"] == "inner"


def test_mime_digest_parts_default_to_message_rfc822() -> None:
    [first, second, third] = mime.parse(MIME_CASES["digest-parts-default-to-message"]).structure["parts"]
    assert (first["type"], second["type"], third["content_type"]) == ("message", "text", ["bogus", ""])


def test_fetch_part_one_of_a_single_part_entity_is_itself() -> None:
    raw = MIME_CASES["outer-boundary-in-part-header"]
    structure = mime.parse(raw).structure
    assert Section.parse("2.1").extract(structure, raw) == Section.parse("2").extract(structure, raw) == b"after"
    assert Section.parse("2.2").extract(structure, raw) == b""


@given(st.binary(max_size=40))
def test_rawtext_keeps_every_byte_string(value: bytes) -> None:
    assert rawtext.to_bytes(rawtext.to_text(value)) == value


def test_rawtext_keeps_utf8_readable_and_escapes_the_rest() -> None:
    assert rawtext.to_text("café".encode()) == "café"
    assert rawtext.to_text(b"caf\xe9") == "caf\uf7e9"
    assert rawtext.to_bytes(rawtext.to_text("\uf7e9".encode())) == "\uf7e9".encode()


def test_bodystructure_of_a_tree_stored_before_version_2_still_renders() -> None:
    legacy = {
        "type": "text",
        "subtype": "plain",
        "params": None,
        "encoding": "QUOTED-PRINTABLE",
        "language": "fr, en",
        "size": 5,
        "lines": 1,
    }
    assert body_structure(legacy) == (
        b'("text" "plain" ("charset" "us-ascii") NIL NIL "QUOTED-PRINTABLE" 5 1 NIL NIL ("fr" "en") NIL)'
    )


class _Row:
    def __init__(self, uid: int, sha256: str, structure: dict) -> None:
        self.uid, self.sha256, self.structure = uid, sha256, structure


def test_fetch_render_cache_keeps_only_trees_of_the_current_version() -> None:
    """An older tree is replaced by ``hexagone mail reparse`` in another process: what
    was drawn from it must not outlive it in the server's cache."""
    plan = parse_fetch(Args([Atom("BODYSTRUCTURE")]), uid=False)
    old = _Row(1, "a" * 64, {"type": "text", "subtype": "plain", "size": 1, "lines": 1})
    new = _Row(2, "b" * 64, mime.parse(single(b"text/plain")).structure)
    rendered: dict[str, bytes] = {}
    assert prerender(plan, [old, new], {1: old, 2: new}, rendered) == []
    assert cache.get("S" + old.sha256) is None
    assert cache.get("S" + new.sha256) == rendered["S" + new.sha256]


def test_mime_ninety_nine_nested_multiparts_are_read_down_to_the_innermost_part() -> None:
    """Dovecot opens multiparts up to a hundred levels deep; lines that start with ``--``
    but are no boundary stay in the innermost part's body."""
    nested = b"".join(b"--b%d\r\nContent-Type: multipart/mixed; boundary=b%d\r\n\r\n" % (i, i + 1) for i in range(98))
    raw = MIME + b"Content-Type: multipart/mixed; boundary=b0\r\n\r\n" + nested + b"--b98\r\n\r\n"
    structure = mime.parse(raw + b"--zz\r\n" * 1000).structure
    depth = 0
    while "parts" in structure:
        structure, depth = structure["parts"][-1], depth + 1
    assert (depth, structure["lines"]) == (99, 1000)
