"""What real clients never send: every malformed command gets NO with a message and the
session goes on; input the server cannot read on from (an endless line, a literal past
the limit, too many literals) and a client that does nothing but err get BYE and the
connection closed. Never a crash: a valid command is answered after each."""

from __future__ import annotations

import pytest

from tests.factories import TestUser
from tests.mail.managesieve.conftest import Raw

pytestmark = pytest.mark.usefixtures("migrated")


def assert_ended(client: Raw, reason: bytes) -> None:
    """The server said BYE with ``reason`` and closed the connection."""
    assert client.response() == [b'BYE "%b"' % reason]
    assert client.closed()


@pytest.mark.parametrize(
    ("command", "answer"),
    [
        (b"FROBNICATE", b'NO "Unknown command"'),
        (b"", b'NO "Expected a command name"'),
        (b'"LISTSCRIPTS"', b'NO "Expected a command name"'),
        (b'GETSCRIPT "unterminated', b'NO "Unterminated quoted string"'),
        (b'GETSCRIPT "bad \\escape"', b'NO "Invalid escape in quoted string"'),
        (b'GETSCRIPT "nul \x00 inside"', b'NO "NUL in quoted string"'),
        (b'GETSCRIPT "\xff\xfe"', b'NO "Strings must be UTF-8"'),
        (b"GETSCRIPT atom", b'NO "The script name must be a quoted string or a literal"'),
        (b"GETSCRIPT", b'NO "Missing script name"'),
        (b'GETSCRIPT "a" "b"', b'NO "Too many arguments"'),
        (b'GETSCRIPT "a""b"', b'NO "Words must be separated by a space"'),
        (b"GETSCRIPT (a)", b'NO "Invalid character in command"'),
        (b'HAVESPACE "a" lots', b'NO "The script size must be a number"'),
        (b'HAVESPACE "a" 99999999999', b'NO "The script size must be a number"'),
        (b'PUTSCRIPT "a"{5+}\r\nkeep;', b'NO "A literal must start a word"'),
        (b"RENAMESCRIPT {1+}\r\naX {1+}\r\nb", b'NO "Words must be separated by a space"'),
        (b'PUTSCRIPT "a" {2+}\r\n\xc3(', b'NO "Strings must be UTF-8"'),
        (b'PUTSCRIPT "a" {9+}\r\n#\x00\nkeep;', b'NO "A script cannot contain a NUL character."'),
        (
            b'HAVESPACE "bad\x01name" 10',
            b'NO "Give the script a name of at most 200 characters, without control characters."',
        ),
        (b"STARTTLS", b'NO "Already signed in"'),
    ],
)
async def test_bad_input_malformed_command_gets_no_and_the_session_goes_on(
    raw, user: TestUser, command: bytes, answer: bytes
) -> None:
    client = raw(user)
    assert client.final(command) == answer
    assert client.final(b"listscripts") == b'OK "Listscripts completed"'


async def test_bad_input_synchronizing_literal_is_read_without_a_continuation(raw, user: TestUser) -> None:
    client = raw(user)
    assert client.final(b'PUTSCRIPT "sync" {5}\r\nkeep;') == b'OK "Script stored"'
    assert client.ask(b'GETSCRIPT "sync"') == [b"{5}", b"keep;", b"", b'OK "Getscript completed"']


async def test_bad_input_script_line_ends_and_non_ascii_survive_a_round_trip(raw, user: TestUser) -> None:
    script = '# règle\r\nif header :contains "subject" "été" {\r\n  discard;\r\n}\r\n'.encode()
    client = raw(user)
    assert client.final(b'PUTSCRIPT "crlf" {%d+}\r\n%b' % (len(script), script)) == b'OK "Script stored"'
    assert client.ask(b'GETSCRIPT "crlf"')[1] == script


async def test_bad_input_line_too_long_ends_the_connection(raw) -> None:
    client = raw()
    client.send(b"NOOP " + b"x" * 20000 + b"\r\n")
    assert_ended(client, b"Line too long")


async def test_bad_input_literal_over_the_limit_ends_the_connection_unread(raw, user: TestUser) -> None:
    client = raw(user)
    client.send(b'PUTSCRIPT "huge" {2000000+}\r\n')
    assert_ended(client, b"Literal too large")


async def test_bad_input_literal_before_sign_in_is_small(raw) -> None:
    client = raw()
    client.send(b'AUTHENTICATE "PLAIN" {10000+}\r\n')
    assert_ended(client, b"Literal too large")


async def test_bad_input_oversized_sasl_response_ends_the_connection(raw) -> None:
    client = raw()
    client.send(b'AUTHENTICATE "PLAIN"\r\n')
    assert client.line() == b'""'
    client.send(b"{10000+}\r\n")
    assert_ended(client, b"Literal too large")


async def test_bad_input_too_many_literals_end_the_connection(raw, user: TestUser) -> None:
    client = raw(user)
    client.send(b"NOOP {1+}\r\na {1+}\r\nb {1+}\r\nc {1+}\r\nd\r\n")
    assert_ended(client, b"Too many literals in one command")


async def test_bad_input_a_script_too_large_for_the_quota_is_read_then_refused(raw, user: TestUser) -> None:
    script = b"#" + b"x" * 100_000 + b"\nkeep;"
    client = raw(user)
    answer = client.final(b'PUTSCRIPT "big" {%d+}\r\n%b' % (len(script), script))
    assert answer.startswith(b"NO (QUOTA/MAXSIZE)")
    assert client.final(b"NOOP") == b'OK "Done"'


async def test_bad_input_endless_errors_end_the_session(raw) -> None:
    client = raw()
    for _ in range(20):
        assert client.final(b"NONSENSE") == b'NO "Unknown command"'
    assert_ended(client, b"Too many errors")


async def test_bad_input_a_good_answer_resets_the_error_count(raw) -> None:
    client = raw()
    for _ in range(3):
        for _ in range(15):
            assert client.final(b"NONSENSE") == b'NO "Unknown command"'
        assert client.final(b"NOOP") == b'OK "Done"'
