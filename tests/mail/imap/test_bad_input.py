"""Input no client should send: malformed commands, literals larger or smaller than
announced, literals over the limit, gigantic lines, 8-bit bytes, binary noise, pipelines.
Each gets a protocol answer; the connection goes on (or closes cleanly), and the server
keeps serving everybody else."""

from __future__ import annotations

import os
import socket

import pytest

from tests.conftest import Server
from tests.factories import TestUser
from tests.mail.factories import deliver
from tests.mail.imap.conftest import Raw

pytestmark = pytest.mark.usefixtures("migrated")


def still_serving(server: Server, user: TestUser) -> bool:
    other = Raw(server.imap_port)
    try:
        other.login(user)
        return other.command(b"z", b"NOOP")[-1] == b"z OK NOOP completed"
    finally:
        other.close()


async def test_bad_input_malformed_commands_are_bad(raw, user: TestUser) -> None:
    await deliver(user)
    client = raw(user)
    client.command(b"s", b"SELECT INBOX")
    for command in [
        b"FETCH",
        b"FETCH 1:x FLAGS",
        b"FETCH 1 (FLAGS",
        b"FETCH 1 FLAGS)",
        b"STORE 1 PLUSFLAGS (\\Seen)",
        b'LOGIN "unterminated',
        b"SELECT",
        b"STATUS INBOX MESSAGES",
        b'LIST ""',
        b"COPY 1",
        b"UID",
        b"UID NOPE 1",
        b"SEARCH OR",
        b'CREATE "a\\x"',
        b"ENABLE",
        b"FETCH 0 FLAGS",
        b"STORE 1 +FLAGS (\\Recentish)",
        b"APPEND INBOX hello",
    ]:
        answer = client.command(b"t", command)[-1]
        assert answer.startswith((b"t BAD", b"t NO")), (command, answer)
    assert client.command(b"n", b"NOOP")[-1] == b"n OK NOOP completed"


async def test_bad_input_lines_without_a_tag_or_command(raw, user: TestUser) -> None:
    client = raw(user)
    client.send(b"+ NOOP\r\n")
    assert client.line().startswith(b"* BAD")
    client.send(b"lonely\r\n")
    assert client.line() == b"lonely BAD Missing command"
    client.send(b"\r\n\r\n")  # empty lines are ignored
    assert client.command(b"n", b"NOOP")[-1] == b"n OK NOOP completed"


async def test_bad_input_literal_larger_than_announced_ends_in_bad(raw, user: TestUser) -> None:
    client = raw()
    client.send(b"a LOGIN {5}\r\n")
    assert client.line().startswith(b"+ ")
    client.send(b"toolongvalue pw\r\n")  # "toolo" is the literal; "ngvalue" cannot follow it
    assert client.until(b"a")[-1] == b"a BAD Missing space between arguments"
    client.login(user)


async def test_bad_input_literal_smaller_than_announced_waits_then_reads_on(raw, user: TestUser) -> None:
    client = raw(user)
    client.send(b"a APPEND INBOX {10+}\r\nshort\r\n")  # five bytes short: the next command is eaten
    client.send(b"b NOOP\r\n")
    answers = client.until(b"a")
    assert answers[-1].startswith(b"a BAD") or answers[-1].startswith(b"a OK")
    assert client.command(b"n", b"NOOP")[-1] == b"n OK NOOP completed"


async def test_bad_input_literal_over_the_limit_is_toobig(raw, user: TestUser, server: Server) -> None:
    client = raw()
    client.send(b"a LOGIN {100000}\r\n")  # before login a literal is small
    assert client.line() == b"a NO [TOOBIG] Literal too large"
    client.login(user)
    client.send(b"b APPEND INBOX {999999999999+}\r\n")  # announced, never sent: refused at once
    assert client.line() == b"b NO [TOOBIG] Literal too large"
    client.close()
    assert still_serving(server, user)


async def test_bad_input_oversize_non_synchronizing_literal_is_skipped(raw, user: TestUser) -> None:
    client = raw(user)
    client.send(b"a SEARCH SUBJECT {2000000+}\r\n")
    assert client.line() == b"a NO [TOOBIG] Literal too large"
    client.send(b"x" * 2_000_000 + b"\r\nb NOOP\r\n")  # the client sent it anyway: skipped
    assert client.until(b"b")[-1] == b"b OK NOOP completed"


async def test_bad_input_gigantic_line_is_refused_and_skipped(raw, user: TestUser, server: Server) -> None:
    client = raw(user)
    client.send(b"a SEARCH SUBJECT " + b"y" * (5 * 1024 * 1024) + b"\r\n")
    assert client.line() == b"a BAD Line too long"
    assert client.command(b"b", b"NOOP")[-1] == b"b OK NOOP completed"
    assert still_serving(server, user)


async def test_bad_input_eight_bit_bytes_outside_strings(raw, user: TestUser) -> None:
    client = raw(user)
    client.send(b"a\xff NOOP\r\n")
    assert client.line().startswith(b"* BAD")  # no tag to answer with
    assert client.command(b"b", b"SELECT caf\xc3\xa9")[-1].startswith(b"b BAD")
    assert client.command(b"c", b'SELECT "caf\xc3\xa9"')[-1].startswith(b"c NO [NONEXISTENT]")  # UTF-8 name
    assert client.command(b"d", b'CREATE "\xff\xfe"')[-1].startswith(b"d BAD")
    assert client.command(b"e", b"NOOP")[-1] == b"e OK NOOP completed"


async def test_bad_input_binary_noise_never_kills_the_server(user: TestUser, server: Server) -> None:
    noise = os.urandom(200_000)
    sock = socket.create_connection(("127.0.0.1", server.imap_port), timeout=10)
    sock.recv(1000)
    sock.sendall(noise + b"\r\n")
    sock.settimeout(2)
    try:
        while sock.recv(65536):
            pass
    except (TimeoutError, ConnectionResetError):  # reset: closed after too many invalid commands
        pass
    sock.close()
    assert still_serving(server, user)


async def test_bad_input_pipelined_commands_are_answered_in_order(raw, user: TestUser) -> None:
    await deliver(user)
    client = raw(user)
    client.send(
        b"".join(b"p%d NOOP\r\n" % n for n in range(200))
        + b"s SELECT INBOX\r\n"
        + b"".join(b"f%d FETCH 1 (UID)\r\n" % n for n in range(200))
    )
    tagged = [line.split(b" ")[0] for line in client.until(b"f199") if not line.startswith(b"*")]
    assert tagged == [b"p%d" % n for n in range(200)] + [b"s"] + [b"f%d" % n for n in range(200)]


async def test_bad_input_client_vanishing_mid_literal_harms_nobody(user: TestUser, server: Server) -> None:
    client = Raw(server.imap_port)
    client.login(user)
    client.send(b"a APPEND INBOX {100000+}\r\n" + b"x" * 5000)
    client.sock.shutdown(socket.SHUT_RDWR)
    client.close()
    assert still_serving(server, user)


async def test_bad_input_message_numbers_in_an_empty_folder_are_bad_but_uids_are_not(raw, user: TestUser) -> None:
    # RFC 9051 9: a sequence number beyond the messages is BAD, "including '*' if the selected mailbox is empty"
    client = raw(user)
    client.command(b"s", b"SELECT INBOX")
    for command in (b"FETCH 1:* (FLAGS)", b"STORE * +FLAGS (\\Seen)", b"COPY 1 Trash"):
        assert client.command(b"a", command)[-1].startswith(b"a BAD"), command
    assert client.command(b"u", b"UID FETCH 1:* (FLAGS)") == [b"u OK FETCH completed"]
    assert client.command(b"r", b"SEARCH 1:*") == [b"* SEARCH", b"r OK SEARCH completed"]
