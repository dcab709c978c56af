"""The IMAP command parser on its own: framing of lines and literals, limits, tokens,
and hypothesis properties (any input ends in events, never an exception; generated
valid commands come back as they were written, however the bytes are cut)."""

from __future__ import annotations

import itertools
import tracemalloc

from hypothesis import given, settings
from hypothesis import strategies as st

from hexagone.mail.imap.arguments import SequenceSet
from hexagone.mail.imap.parser import (
    CONTINUE,
    LARGE_LITERAL,
    Atom,
    Command,
    CommandError,
    Continue,
    Framer,
    LargeLiteral,
    Literal,
    Literal8,
    Quoted,
    Refused,
)
from hexagone.mail.imap.structure import Section

LIMIT = 1000


def framer(limit: int = LIMIT, max_line: int = 200) -> Framer:
    return Framer(lambda _name: limit, max_line=max_line)


def events(data: bytes, f: Framer | None = None) -> list[object]:
    f = f or framer()
    f.feed(data)
    found = []
    while (event := f.next_event()) is not None:
        found.append(event)
    return found


def test_parser_simple_command_is_tokenised() -> None:
    [command] = events(b'a1 LOGIN "bob@example.org" "p\\"w\\\\d"\r\n')
    assert command == Command("a1", "LOGIN", [b"bob@example.org", b'p"w\\d'])
    assert isinstance(command.args[0], Quoted)


def test_parser_uid_commands_are_named_with_their_verb() -> None:
    [command] = events(b"t uid fetch 1:* (FLAGS)\r\n")
    assert command.name == "UID FETCH" and command.args == ["1:*", ["FLAGS"]]


def test_parser_section_spec_with_spaces_is_one_atom() -> None:
    [command] = events(b"t FETCH 1 (BODY.PEEK[HEADER.FIELDS (From To)]<0.100> UID)\r\n")
    assert command.args[1] == ["BODY.PEEK[HEADER.FIELDS (From To)]<0.100>", "UID"]


def test_parser_synchronizing_literal_asks_to_continue() -> None:
    f = framer()
    assert events(b"a LOGIN {3}\r\n", f) == [CONTINUE]
    assert events(b"bob {2+}\r\npw\r\n", f) == [Command("a", "LOGIN", [b"bob", b"pw"])]


def test_parser_literal_may_hold_any_byte() -> None:
    data = bytes(range(256)) + b"\r\n)\r\n{5}\r\n"
    [command] = events(b"a APPEND INBOX {%d+}\r\n%b\r\n" % (len(data), data), framer(limit=10_000))
    assert command.args == ["INBOX", data] and isinstance(command.args[1], Literal)


def test_parser_literal_over_the_limit_is_refused_and_skipped() -> None:
    f = framer(limit=10)
    [refused, command] = events(b"a APPEND INBOX {50+}\r\n" + b"x" * 50 + b"\r\nb NOOP\r\n", f)
    assert isinstance(refused, Refused) and refused.response == b"a NO [TOOBIG] Literal too large\r\n"
    assert command == Command("b", "NOOP", []) and f.idle


def test_parser_synchronizing_literal_over_the_limit_is_refused_without_continuation() -> None:
    [refused, command] = events(b"a APPEND INBOX {5000}\r\nb NOOP\r\n")
    assert isinstance(refused, Refused) and b"TOOBIG" in refused.response
    assert command == Command("b", "NOOP", [])


def test_parser_overlong_line_is_refused_once_and_the_next_command_is_read() -> None:
    f = framer(max_line=100)
    found = events(b"a NOOP " + b"x" * 1000, f) + events(b"y" * 1000 + b"\r\nb NOOP\r\n", f)
    assert [type(e) for e in found] == [Refused, Command]
    assert found[0].response == b"a BAD Line too long\r\n" and found[1].tag == "b"


def test_parser_malformed_commands_are_refused_with_their_tag() -> None:
    for line, expected in [
        (b"a FETCH (1\r\n", b"a BAD"),
        (b'a LOGIN "unterminated\r\n', b"a BAD"),
        (b"a LOGIN caf\xc3\xa9 x\r\n", b"a BAD"),
        (b"+bad NOOP\r\n", b"* BAD"),
        (b"a\r\n", b"a BAD"),
        (b"a SELECT box{3}\r\n", b"a BAD"),
    ]:
        found = events(line)
        assert isinstance(found[-1], Refused), line
        assert found[-1].response.startswith(expected), (line, found)


def test_parser_empty_lines_between_commands_are_ignored() -> None:
    assert events(b"\r\n\r\na NOOP\r\n") == [Command("a", "NOOP", [])]


def test_parser_raw_line_for_idle_and_sasl() -> None:
    f = framer(max_line=10)
    f.feed(b"DONE\r\n")
    assert f.read_line() == b"DONE"
    f.feed(b"x" * 50)
    try:
        f.read_line()
    except CommandError as error:
        assert error.text == "Line too long"
    else:
        raise AssertionError("an overlong raw line must be refused")


def test_parser_sequence_sets_parse_and_resolve() -> None:
    numbers = SequenceSet.parse("1:3,7,9:*,*")
    assert numbers.resolved(12) == [(1, 3), (7, 7), (9, 12), (12, 12)]
    assert str(numbers) == "1:3,7,9:*,*"
    for bad in ["", "0", "1:", "a", "1,,2", "4294967296"]:
        try:
            SequenceSet.parse(bad)
        except CommandError:
            continue
        raise AssertionError(f"{bad!r} accepted")


def test_parser_sections_parse_and_print_canonically() -> None:
    assert str(Section.parse('1.2.header.fields (from "To")')) == "1.2.HEADER.FIELDS (FROM TO)"
    assert Section.parse("HEADER").header_only and not Section.parse("1.HEADER").header_only
    for bad in ["1.", "MIME", "0", "1..2", "HEADER.FIELDS", "TEXT (x)", "BOGUS"]:
        try:
            Section.parse(bad)
        except CommandError:
            continue
        raise AssertionError(f"{bad!r} accepted")


# --- properties --------------------------------------------------------------------------

ATOM_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.:*,$_-!#&'+/;<=>?@^`|~"
atoms = st.text(ATOM_CHARS, min_size=1, max_size=12).map(Atom)
quoted = st.binary(max_size=30).filter(lambda b: not set(b) & {0, 13, 10}).map(Quoted)
literals = st.binary(max_size=60).filter(lambda b: 0 not in b).map(Literal)  # NUL: see the NUL tests
tokens = st.recursive(atoms | quoted | literals, lambda inner: st.lists(inner, max_size=4), max_leaves=12)
tags = st.text(ATOM_CHARS.replace("+", "").replace("*", ""), min_size=1, max_size=8)
names = st.sampled_from(["NOOP", "LOGIN", "SELECT", "FETCH", "STORE", "SEARCH", "APPEND", "X-CUSTOM"])


def serialise(token: object, plus: bool) -> bytes:
    if isinstance(token, Atom):
        return token.encode()
    if isinstance(token, Literal):
        return b"{%d%b}\r\n%b" % (len(token), b"+" if plus else b"", bytes(token))
    if isinstance(token, Quoted):
        return b'"' + bytes(token).replace(b"\\", b"\\\\").replace(b'"', b'\\"') + b'"'
    assert isinstance(token, list)
    return b"(" + b" ".join(serialise(t, plus) for t in token) + b")"


@given(tag=tags, name=names, args=st.lists(tokens, max_size=5), plus=st.booleans(), cuts=st.lists(st.integers(0, 500)))
@settings(max_examples=300, deadline=None)
def test_parser_round_trips_generated_commands_however_they_are_cut(
    tag: str, name: str, args: list[object], plus: bool, cuts: list[int]
) -> None:
    wire = b" ".join([tag.encode(), name.encode(), *(serialise(a, plus) for a in args)]) + b"\r\n"
    f = framer(limit=10_000, max_line=10_000)
    positions = sorted({c % (len(wire) + 1) for c in cuts} | {0, len(wire)})
    found = []
    for start, end in itertools.pairwise(positions):
        f.feed(wire[start:end])
        while (event := f.next_event()) is not None:
            found.append(event)
    commands = [e for e in found if not isinstance(e, Continue)]
    assert commands == [Command(tag, name, args)]
    assert all(type(a) is type(b) for a, b in zip(commands[0].args, args, strict=True))


@given(chunks=st.lists(st.binary(max_size=300), max_size=20), limit=st.integers(0, 100))
@settings(max_examples=500, deadline=None)
def test_parser_never_raises_on_any_input(chunks: list[bytes], limit: int) -> None:
    f = framer(limit=limit, max_line=64)
    for chunk in chunks:
        f.feed(chunk)
        while (event := f.next_event()) is not None:
            assert isinstance(event, Command | Continue | Refused)
    assert len(f.buffer) <= 64 + 300 + 40  # nothing piles up beyond a line and a chunk


def test_parser_wire_dates_and_strings_are_written_as_imap_wants() -> None:
    from datetime import UTC, datetime

    from hexagone.mail.imap.wire import internal_date, string

    for value in [
        "2024-01-01 08:02:31.000000",
        "2024-01-01 08:02:31",
        "2024-01-01 08:02:31+00",
        "2024-01-01 09:02:31+01",
        "2024-01-01 03:02:31.5-05",
        datetime(2024, 1, 1, 8, 2, 31, tzinfo=UTC),
    ]:
        assert internal_date(value) == b'"01-Jan-2024 08:02:31 +0000"', value
    assert string("plain") == b'"plain"' and string('a "b" \\c') == b'"a \\"b\\" \\\\c"'
    assert string("été") == b"{5}\r\n\xc3\xa9t\xc3\xa9" and string("a\r\nb") == b"{4}\r\na\r\nb"


def test_parser_large_literal_is_held_once_and_never_copied() -> None:
    """A large APPEND costs its size once: its bytes are moved out of the input buffer as
    they arrive, and the command's argument is that very object (no copy per step)."""
    size = 8 * 1024 * 1024
    data = b"x" * size
    f = framer(limit=2 * size)
    tracemalloc.start()
    try:
        [announced] = events(b"a APPEND INBOX {%d+}\r\n" % size, f)
        assert announced == LargeLiteral(size, sync=False)
        command = None
        for start in range(0, size, 65536):
            f.feed(data[start : start + 65536])
            assert f.next_event() is None and len(f.buffer) == 0
        f.feed(b"\r\n")
        command = f.next_event()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert isinstance(command, Command) and command.args[1] == data
    assert peak < 1.1 * size
    literal = command.args[1]
    assert isinstance(literal, Literal) and bytes(literal) is literal.data


def test_parser_large_synchronizing_literal_waits_for_the_session() -> None:
    assert events(b"a APPEND INBOX {%d}\r\n" % LARGE_LITERAL, framer(limit=2 * LARGE_LITERAL)) == [
        LargeLiteral(LARGE_LITERAL, sync=True)
    ]


def test_parser_nul_is_refused_outside_an_appended_message() -> None:
    [refused] = events(b"a LOGIN {3+}\r\nb\x00b pw\r\n")
    assert isinstance(refused, Refused) and refused.response == b"a BAD NUL in a literal\r\n"
    [command] = events(b"a APPEND INBOX {3+}\r\nb\x00b\r\n")
    assert isinstance(command, Command) and command.args[1] == b"b\x00b"


def test_parser_unbalanced_bracket_in_an_atom_is_an_atom_char() -> None:
    # RFC 3501 9: "[" is an ATOM-CHAR; only a fetch section pairs brackets
    [command] = events(b"a LIST foo[ %\r\n")
    assert command == Command("a", "LIST", ["foo[", "%"])
    [command] = events(b"a STORE 1 +FLAGS (x[y \\Seen)\r\n")
    assert command.args[2] == ["x[y", "\\Seen"]


def test_parser_fetch_section_still_runs_to_its_bracket() -> None:
    [command] = events(b"t FETCH 1 (BINARY.PEEK[1] BODY[HEADER.FIELDS (A B)])\r\n")
    assert command.args[1] == ["BINARY.PEEK[1]", "BODY[HEADER.FIELDS (A B)]"]


def test_parser_unterminated_fetch_section_is_bad() -> None:
    [refused] = events(b"t FETCH 1 (BODY[HEADER\r\n")
    assert isinstance(refused, Refused) and refused.response.startswith(b"t BAD")


def test_parser_literal8_is_read_and_may_hold_nul() -> None:
    f = framer(limit=1000)
    [command] = events(b"a APPEND INBOX ~{3+}\r\na\0b\r\n", f)
    assert command.args[1] == b"a\0b" and isinstance(command.args[1], Literal8)
    assert events(b"b X ~{2}\r\n", f) == [CONTINUE]
    [command] = events(b"\0\0\r\n", f)
    assert command.args == [b"\0\0"]
