"""The Sieve interpreter over one message, rule by rule of RFC 5228 and of each extension
it interprets (fileinto, imap4flags, envelope, body, vacation, copy, relational,
subaddress, date's currentdate), and the grammar's refusals. Pure: no server."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from hexagone.mail.sieve import INBOX, Envelope, SieveError, SieveRuntimeError, Verdict, parse, run

MESSAGE = (
    b"Return-Path: <alice@example.org>\r\n"
    b"Received: from a\r\nReceived: from b\r\nReceived: from c\r\n"
    b"From: Alice Martin <alice@example.org>\r\n"
    b"To: Bob <bob+lists@example.net>, carol@example.com\r\n"
    b"Subject: =?utf-8?q?R=C3=A9union_budget?=\r\n"
    b"X-Spam-Score: 12\r\n"
    b"Content-Type: multipart/alternative; boundary=b\r\n"
    b"\r\n--b\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
    b"Le budget est pr=C3=AAt.\r\n--b\r\nContent-Type: text/html\r\n\r\n<p>secret html</p>\r\n--b--\r\n"
)
ENVELOPE = Envelope(mail_from="alice@example.org", rcpt_to="bob+lists@example.net")


def verdict(script: str, raw: bytes = MESSAGE, envelope: Envelope = ENVELOPE, now: datetime | None = None) -> Verdict:
    return run(parse(script), raw, envelope, now=now)


def matches(test: str, requires: str = "") -> bool:
    """Whether ``test`` is true for MESSAGE (it files into "Yes" when it is)."""
    script = f'require ["fileinto"{requires}]; if {test} {{ fileinto "Yes"; }}'
    return "Yes" in verdict(script).folders


# --- RFC 5228: the base language ------------------------------------------------------


def test_rfc5228_2_10_2_empty_script_keeps_in_inbox() -> None:
    assert verdict("").folders == {INBOX: []}


def test_rfc5228_4_1_fileinto_cancels_implicit_keep() -> None:
    assert verdict('require "fileinto"; fileinto "Lists";').folders == {"Lists": []}


def test_rfc5228_4_3_keep_and_fileinto_store_in_both() -> None:
    assert verdict('require "fileinto"; keep; fileinto "Lists";').folders == {INBOX: [], "Lists": []}


def test_rfc5228_4_5_discard_stores_nowhere() -> None:
    result = verdict("discard;")
    assert result.folders == {} and result.redirects == []


def test_rfc5228_4_2_redirect_cancels_implicit_keep() -> None:
    result = verdict('redirect "dave@example.org";')
    assert result.folders == {} and result.redirects == ["dave@example.org"]


def test_rfc5228_2_10_3_same_redirect_twice_is_sent_once() -> None:
    assert verdict('redirect "d@example.org"; redirect "D@example.org";').redirects == ["d@example.org"]


def test_rfc5228_4_2_redirect_to_a_bad_address_fails_the_script() -> None:
    with pytest.raises(SieveRuntimeError):
        verdict('redirect "not an address";')


def test_rfc5228_3_3_stop_ends_the_script_with_implicit_keep() -> None:
    assert verdict('require "fileinto"; stop; fileinto "Never";').folders == {INBOX: []}


def test_rfc5228_3_1_elsif_and_else_run_only_the_first_true_branch() -> None:
    script = 'require "fileinto"; if false { fileinto "A"; } elsif true { fileinto "B"; } else { fileinto "C"; }'
    assert verdict(script).folders == {"B": []}


def test_rfc5228_5_7_header_is_compared_decoded_and_case_insensitively() -> None:
    assert matches('header :is "SUBJECT" "réUNION BUDGET"')
    assert not matches('header :contains "subject" "RÉUNION"'), "i;ascii-casemap folds ASCII letters only"


def test_rfc5228_2_7_1_matches_takes_star_and_question_mark() -> None:
    assert matches('header :matches "from" "*<alice@?xample.org>"')
    assert not matches('header :matches "from" "bob*"')


def test_rfc5228_2_7_3_octet_comparator_is_case_sensitive() -> None:
    assert not matches('header :comparator "i;octet" :contains "from" "ALICE"')
    assert matches('header :comparator "i;octet" :contains "from" "Alice"')


def test_rfc5228_5_1_address_parts_of_every_address_of_the_fields() -> None:
    assert matches('address :domain :is "to" "example.com"')
    assert matches('address :localpart :is "from" "alice"')
    assert matches('address :all :is ["to", "cc"] "carol@example.com"')
    assert not matches('address :is "from" "Alice Martin"')


def test_rfc5228_5_1_address_with_an_encoded_display_name_holding_a_comma_is_one_address() -> None:
    raw = b"From: =?utf-8?q?Martin=2C_Alice?= <alice@example.org>\r\n\r\nBody\r\n"
    script = 'require ["relational", "fileinto"]; if address :count "eq" "from" "1" { fileinto "One"; }'
    assert "One" in verdict(script, raw).folders


def test_rfc5228_5_5_exists_needs_every_field() -> None:
    assert matches('exists ["from", "subject"]')
    assert not matches('exists ["from", "x-nothing"]')


def test_rfc5228_5_9_size_over_and_under() -> None:
    assert matches("size :over 100")
    assert matches("size :under 1K")
    assert not matches("size :over 1M")


def test_rfc5228_5_3_allof_anyof_not() -> None:
    assert matches('allof (true, not false, anyof (false, header :contains "subject" "budget"))')
    assert not matches("anyof (false, not true)")


def test_rfc5228_2_10_6_unknown_extension_is_refused_at_parse_time() -> None:
    with pytest.raises(SieveError, match="unsupported extension"):
        parse('require "regex";')


def test_rfc5228_3_2_extension_used_without_require_is_refused() -> None:
    with pytest.raises(SieveError):
        parse('fileinto "Lists";')


def test_rfc5228_3_2_require_after_another_command_is_refused() -> None:
    with pytest.raises(SieveError, match="require"):
        parse('keep; require "fileinto";')
    with pytest.raises(SieveError, match="require"):
        parse('if true { require "fileinto"; }')


def test_rfc5228_8_syntax_error_is_refused_with_a_message() -> None:
    with pytest.raises(SieveError, match="line 1"):
        parse('if header :contains "a" "b" {')


def test_rfc5228_2_7_3_numeric_comparator_needs_its_require() -> None:
    with pytest.raises(SieveError, match="ascii-numeric"):
        parse('if header :comparator "i;ascii-numeric" :is "x" "1" { keep; }')


def test_grammar_blocks_nested_too_deep_are_refused() -> None:
    with pytest.raises(SieveError):
        parse("if true { " * 40 + "keep;" + " }" * 40)


# --- RFC 5232: imap4flags ---------------------------------------------------------------


def test_rfc5232_addflag_applies_to_the_implicit_keep() -> None:
    script = 'require "imap4flags"; addflag "\\\\Seen"; addflag ["$Work \\\\Flagged"];'
    assert verdict(script).folders == {INBOX: ["\\Seen", "$Work", "\\Flagged"]}


def test_rfc5232_removeflag_and_setflag_replace_the_variable() -> None:
    script = 'require "imap4flags"; setflag "a b"; removeflag "A"; keep;'
    assert verdict(script).folders == {INBOX: ["b"]}


def test_rfc5232_flags_argument_overrides_the_variable_for_one_action() -> None:
    script = 'require ["imap4flags", "fileinto"]; addflag "x"; fileinto :flags "\\\\Seen" "Lists";'
    assert verdict(script).folders == {"Lists": ["\\Seen"]}


def test_rfc5232_hasflag_reads_the_variable() -> None:
    script = 'require ["imap4flags", "fileinto"]; addflag "urgent"; if hasflag "URGENT" { fileinto "Now"; }'
    assert "Now" in verdict(script).folders


# --- RFC 3894: copy ------------------------------------------------------------------


def test_rfc3894_fileinto_copy_keeps_the_implicit_keep() -> None:
    assert verdict('require ["fileinto", "copy"]; fileinto :copy "Lists";').folders == {"Lists": [], INBOX: []}


def test_rfc3894_redirect_copy_keeps_the_implicit_keep() -> None:
    result = verdict('require "copy"; redirect :copy "dave@example.org";')
    assert result.folders == {INBOX: []} and result.redirects == ["dave@example.org"]


# --- RFC 5228 5.4: envelope ----------------------------------------------------------


def test_rfc5228_5_4_envelope_from_and_to() -> None:
    assert matches('envelope :is "from" "alice@example.org"', ', "envelope"')
    assert matches('envelope :domain :is "to" "example.net"', ', "envelope"')
    bounce = 'require ["envelope", "fileinto"]; if envelope :is "from" "" { fileinto "Bounces"; }'
    assert "Bounces" in verdict(bounce, envelope=Envelope("", "bob@example.net")).folders


# --- RFC 5233: subaddress -----------------------------------------------------------


def test_rfc5233_user_and_detail_parts() -> None:
    assert matches('envelope :detail "to" "lists"', ', "envelope", "subaddress"')
    assert matches('address :user "to" "bob"', ', "subaddress"')
    assert not matches('address :detail "from" "*"', ', "subaddress"'), ":detail of an address without one is no value"


# --- RFC 5173: body -----------------------------------------------------------------


def test_rfc5173_body_text_searches_decoded_text_parts() -> None:
    assert matches('body :contains "budget est prêt"', ', "body"')
    assert matches('body :text :contains "secret html"', ', "body"'), "text/html is a text part"


def test_rfc5173_body_content_limits_the_types() -> None:
    assert not matches('body :content "text/plain" :contains "secret html"', ', "body"')
    assert matches('body :content "text/html" :contains "secret html"', ', "body"')


def test_rfc5173_body_raw_is_not_decoded() -> None:
    assert matches('body :raw :contains "pr=C3=AAt"', ', "body"')


# --- RFC 5231: relational -----------------------------------------------------------


def test_rfc5231_value_with_the_numeric_comparator() -> None:
    numeric = ', "relational", "comparator-i;ascii-numeric"'
    assert matches('header :value "ge" :comparator "i;ascii-numeric" "x-spam-score" "10"', numeric)
    assert not matches('header :value "lt" :comparator "i;ascii-numeric" "x-spam-score" "9"', numeric)


def test_rfc5231_count_counts_the_values() -> None:
    numeric = ', "relational", "comparator-i;ascii-numeric"'
    assert matches('header :count "eq" :comparator "i;ascii-numeric" "received" "3"', numeric)
    assert matches('address :count "ge" :comparator "i;ascii-numeric" ["to", "cc"] "2"', numeric)


# --- RFC 5260: currentdate ----------------------------------------------------------


def test_rfc5260_currentdate_compares_a_part_of_now() -> None:
    script = (
        'require ["date", "relational", "fileinto"]; '
        'if currentdate :value "le" "date" "2026-12-31" { fileinto "Before"; }'
    )
    assert "Before" in verdict(script, now=datetime(2026, 12, 31, 23, 0, tzinfo=UTC)).folders
    assert "Before" not in verdict(script, now=datetime(2027, 1, 1, 0, 0, tzinfo=UTC)).folders


def test_rfc5260_currentdate_in_another_zone() -> None:
    script = 'require ["date", "fileinto"]; if currentdate :zone "+0100" :is "hour" "00" { fileinto "Midnight"; }'
    assert "Midnight" in verdict(script, now=datetime(2026, 6, 1, 23, 0, tzinfo=UTC)).folders


# --- RFC 5230: vacation -------------------------------------------------------------


def test_rfc5230_vacation_keeps_the_message_and_carries_its_arguments() -> None:
    script = (
        'require "vacation"; vacation :days 3 :subject "Absent" :from "bob@example.net" '
        ':addresses ["b@example.net"] :handle "h" "Back Monday";'
    )
    result = verdict(script)
    assert result.folders == {INBOX: []}
    assert result.vacation is not None
    assert (result.vacation.reason, result.vacation.days, result.vacation.subject) == ("Back Monday", 3, "Absent")
    assert result.vacation.addresses == ["b@example.net"] and result.vacation.handle == "h"


def test_rfc5230_4_1_days_are_kept_within_the_sites_bounds() -> None:
    result = verdict('require "vacation"; vacation :days 1000 "x";')
    assert result.vacation is not None and result.vacation.days == 90


def test_rfc5230_two_vacation_actions_fail_the_script() -> None:
    with pytest.raises(SieveRuntimeError):
        verdict('require "vacation"; vacation "a"; vacation "b";')
