"""The ENVELOPE of a header block (hexagone/mail/envelope.py, addresslist.py, rawtext.py):
one test per rule, each rule as Dovecot 2.3 applies it (the differential tests compare
the whole corpus with a running Dovecot)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hexagone.mail import addresslist, envelope, mime, rawtext
from hexagone.mail.imap.structure import envelope as imap_envelope


def _envelope(fields: bytes) -> dict[str, object]:
    return envelope.envelope_of(fields + b"\r\n")


def test_envelope_address_without_domain_gets_missing_domain_host() -> None:
    env = _envelope(b"From: root\r\nTo: Local <postmaster>, bob@example.org\r\n")
    assert env["from"] == [[None, None, "root", "MISSING_DOMAIN"]]
    assert env["to"] == [["Local", None, "postmaster", "MISSING_DOMAIN"], [None, None, "bob", "example.org"]]


def test_envelope_empty_angle_address_gets_missing_mailbox_and_domain() -> None:
    assert _envelope(b"To: <>\r\n")["to"] == [[None, None, "MISSING_MAILBOX", "MISSING_DOMAIN"]]


def test_envelope_unreadable_angle_address_gets_syntax_error_host_and_ends_the_list() -> None:
    env = _envelope(b"To: broken <a@>, later@example.org\r\n")
    assert env["to"] == [["broken", None, "a", "SYNTAX_ERROR"]]


def test_envelope_group_is_kept_in_rfc3501_group_syntax() -> None:
    env = _envelope(b"To: Team: a@x.example, Bee <b@y.example>;, carol@example.org\r\n")
    assert env["to"] == [
        [None, None, "Team", None],
        [None, None, "a", "x.example"],
        ["Bee", None, "b", "y.example"],
        [None, None, None, None],
        [None, None, "carol", "example.org"],
    ]


def test_envelope_empty_group_has_its_start_and_its_end() -> None:
    env = _envelope(b"To: undisclosed-recipients:;\r\n")
    assert env["to"] == [[None, None, "undisclosed-recipients", None], [None, None, None, None]]


def test_envelope_comment_after_a_bare_address_is_its_name() -> None:
    env = _envelope(b"From: dwsauder@example.com (Doug Sauder)\r\n")
    assert env["from"] == [["Doug Sauder", None, "dwsauder", "example.com"]]


def test_envelope_display_name_stays_encoded_and_quotes_are_removed() -> None:
    env = _envelope(b'From: "Ann \\"A\\" Lee" <ann@example.org>, =?utf-8?q?Jos=C3=A9?= <j@example.org>\r\n')
    assert env["from"] == [
        ['Ann "A" Lee', None, "ann", "example.org"],
        ["=?utf-8?q?Jos=C3=A9?=", None, "j", "example.org"],
    ]


def test_envelope_source_route_is_the_address_adl() -> None:
    env = _envelope(b"From: Name <@r1.example,@r2.example:m@d.example>\r\n")
    assert env["from"] == [["Name", "@r1.example,@r2.example", "m", "d.example"]]


def test_envelope_addresses_of_every_to_field_and_the_last_subject() -> None:
    env = _envelope(b"Subject: first\r\nSubject: second\r\nTo: x@y.example\r\nTo: w@v.example\r\n")
    assert env["subject"] == "second"
    assert env["to"] == [[None, None, "x", "y.example"], [None, None, "w", "v.example"]]


def test_envelope_subject_white_space_runs_become_one_space() -> None:
    assert _envelope(b"Subject:   lead  two \r\n\tand tab \r\n")["subject"] == "lead two and tab"


def test_envelope_folded_fields_lose_only_their_line_breaks() -> None:
    env = _envelope(b"In-Reply-To: <a@b>\r\n <c@d>\r\nDate: Tue, 04 Mar 2025\r\n\t10:00:00 +0100\r\n")
    assert env["in-reply-to"] == "<a@b> <c@d>"
    assert env["date"] == "Tue, 04 Mar 2025\t10:00:00 +0100"


def test_envelope_empty_subject_is_an_empty_string_and_empty_address_list_nil() -> None:
    env = _envelope(b"Subject:\r\nTo: \r\n")
    assert env["subject"] == "" and env["to"] is None


def test_envelope_sender_and_reply_to_are_from_when_absent() -> None:
    env = _envelope(b"From: a@example.org\r\nReply-To: r@example.org\r\n")
    assert env["sender"] == env["from"] == [[None, None, "a", "example.org"]]
    assert env["reply-to"] == [[None, None, "r", "example.org"]]


def test_envelope_nul_byte_becomes_the_replacement_character() -> None:
    assert _envelope(b"Subject: nul\x00here\r\n")["subject"] == "nul\ufffdhere"


def test_envelope_raw_8bit_header_bytes_are_passed_through() -> None:
    env = _envelope(b"From: \xe9l\xe8ve <e@x.example>\r\nSubject: caf\xc3\xa9 \xff\r\n")
    assert b"{7}\r\ncaf\xc3\xa9 \xff" in imap_envelope(env)
    assert b"{5}\r\n\xe9l\xe8ve" in imap_envelope(env)


def test_envelope_of_a_header_block_email_cannot_read_still_has_its_fields() -> None:
    parsed = mime.parse(b"Fro :broken first line\r\nSubject: kept\r\nTo: a@example.org\r\n\r\nbody\r\n")
    assert parsed.envelope["subject"] == "kept"
    assert parsed.envelope["to"] == [[None, None, "a", "example.org"]]


def test_envelope_address_list_never_raises_on_any_bytes() -> None:
    for value in (b"", b"(", b'"', b"<", b"@", b"a:", b"a:b", b"\\", b",,,", b"<@", b"<@a", b"a@[1.2", b'"\\'):
        addresslist.parse(value)


@given(st.binary(max_size=200))
def test_envelope_address_list_parse_never_raises(value: bytes) -> None:
    for address in addresslist.parse(value):
        assert address.mailbox is not None or address.domain is None


@given(st.binary(max_size=300))
def test_rawtext_gives_back_any_bytes_exactly(data: bytes) -> None:
    text = rawtext.to_text(data)
    assert rawtext.to_bytes(text) == data
    assert "\x00" not in text and not any(0xD800 <= ord(c) <= 0xDFFF for c in text)


@pytest.mark.parametrize(
    ("data", "text"),
    [
        (b"plain", "plain"),
        ("café".encode(), "café"),
        (b"caf\xe9", "caf\uf7e9"),
        ("\uf7e9".encode(), "\uf7ef\uf79f\uf7a9"),
    ],
)
def test_rawtext_keeps_valid_utf8_readable_and_escapes_the_rest(data: bytes, text: str) -> None:
    assert rawtext.to_text(data) == text


def test_rawtext_text_stored_before_is_written_as_utf8() -> None:
    assert rawtext.to_bytes("Zoé") == "Zoé".encode()


def test_envelope_search_line_keeps_group_names_and_missing_domains() -> None:
    block = b"To: Team: a@x.example, Bee <b@y.example>;, root\r\n\r\n"
    assert envelope.address_line(block, b"to") == b"Team: a@x.example, Bee <b@y.example>;, root@MISSING_DOMAIN"
