"""ManageSieve's grammar in process, as properties: any line ends in words or a
command error, never another exception; any strings written by the server's own
encoder (quoted when they may be, else literals) read back the same."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from hexagone.mail.managesieve.wire import MAX_TEXT, Atom, CommandError, response, string, words


@given(line=st.binary(max_size=300))
@settings(max_examples=500, deadline=None)
def test_wire_any_line_gives_words_or_a_command_error(line: bytes) -> None:
    try:
        found = words([line])
    except CommandError as error:
        assert error.response().startswith(b"NO ")
    else:
        assert all(isinstance(word, str) for word in found)


@given(texts=st.lists(st.text(max_size=1100), max_size=3))
@settings(max_examples=300, deadline=None)
def test_wire_strings_round_trip_through_quoted_and_literal_forms(texts: list[str]) -> None:
    pieces = [b"PUTSCRIPT"]
    for text in texts:
        encoded = string(text)
        if encoded.startswith(b"{"):  # a literal: its announcement ends the line fragment
            announcement, data = encoded.split(b"\r\n", 1)
            pieces[-1] += b" " + announcement
            pieces += [data, b""]
        else:
            pieces[-1] += b" " + encoded
    found = words(pieces)
    assert found == [Atom("PUTSCRIPT"), *texts]
    assert not any(isinstance(word, Atom) for word in found[1:])


@given(text=st.text(max_size=2000))
def test_wire_response_text_stays_one_short_line(text: str) -> None:
    answer = response("NO", text, "QUOTA/MAXSIZE")
    assert answer.startswith(b"NO (QUOTA/MAXSIZE)") and answer.endswith(b"\r\n")
    assert answer.count(b"\r\n") == 1 and b"\0" not in answer and len(answer) < 4 * MAX_TEXT + 30
