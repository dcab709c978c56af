"""A minimal IMAP client for measuring servers, not for reading mail.

imaplib keeps every response in memory and parses it line by line in Python, which on a
two-core machine would make the client, not the server, the bottleneck of a 1 GB FETCH.
This client sends a command and reads the answer up to its tagged completion, counting
untagged responses and literal bytes and skipping literals without copying them; it keeps
the text of untagged lines only when asked (SEARCH, STATUS). The same client measures
Dovecot and Hexagone.
"""

from __future__ import annotations

import re
import socket
from collections.abc import Iterable
from dataclasses import dataclass, field

from messages import Message

LITERAL = re.compile(rb"\{(\d+)\+?\}$")
READ_SIZE = 1 << 20


class ImapError(RuntimeError):
    pass


@dataclass
class Answer:
    status: bytes  # OK, NO or BAD
    text: bytes  # the rest of the tagged line
    untagged: int = 0  # number of "* ..." responses
    literal_bytes: int = 0
    literals: int = 0
    lines: list[bytes] = field(default_factory=list)  # untagged lines without their literals, if kept


class Connection:
    def __init__(self, host: str, port: int, timeout: float = 600):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.buf = bytearray()
        self.pos = 0
        self.tag = 0
        greeting = self.read_line()
        if not greeting.startswith(b"* OK"):
            raise ImapError(f"greeting: {greeting!r}")
        self.capabilities = self.capability()

    # ------------------------------------------------------------------ reading

    def _fill(self) -> None:
        if self.pos > READ_SIZE:
            del self.buf[: self.pos]
            self.pos = 0
        chunk = self.sock.recv(READ_SIZE)
        if not chunk:
            raise ImapError("connection closed by the server")
        self.buf += chunk

    def read_line(self) -> bytes:
        scanned = 0  # bytes after pos already searched (pos moves when the buffer is compacted)
        while True:
            end = self.buf.find(b"\r\n", self.pos + scanned)
            if end >= 0:
                line = bytes(self.buf[self.pos : end])
                self.pos = end + 2
                return line
            scanned = max(0, len(self.buf) - self.pos - 1)
            self._fill()

    def _skip(self, n: int) -> None:
        while len(self.buf) - self.pos < n:
            have = len(self.buf) - self.pos
            del self.buf[:]
            self.pos = 0
            n -= have
            chunk = self.sock.recv(max(READ_SIZE, min(n, 16 * READ_SIZE)))
            if not chunk:
                raise ImapError("connection closed inside a literal")
            self.buf += chunk
        self.pos += n

    def _response(self, answer: Answer, keep: bool) -> bytes:
        """One whole response (a line and the literals inside it); returns its first line."""
        first = line = self.read_line()
        kept = [line] if keep else None
        while (m := LITERAL.search(line)) is not None:
            size = int(m.group(1))
            answer.literals += 1
            answer.literal_bytes += size
            self._skip(size)
            line = self.read_line()
            if kept is not None:
                kept.append(line)
        if kept is not None and first.startswith(b"* "):
            answer.lines.append(b" ".join(kept))
        return first

    # ------------------------------------------------------------------ commands

    def send(self, command: str | bytes) -> bytes:
        """Send one tagged command; returns its tag."""
        self.tag += 1
        tag = b"b%d" % self.tag
        data = command.encode() if isinstance(command, str) else command
        self.sock.sendall(tag + b" " + data + b"\r\n")
        return tag

    def wait(self, tag: bytes, keep: bool = False) -> Answer:
        answer = Answer(b"", b"")
        while True:
            first = self._response(answer, keep)
            if first.startswith(b"* "):
                answer.untagged += 1
            elif first.startswith(tag + b" "):
                parts = first.split(b" ", 2)
                answer.status, answer.text = parts[1], parts[2] if len(parts) > 2 else b""
                return answer
            elif first.startswith(b"+"):
                raise ImapError(f"unexpected continuation: {first!r}")

    def command(self, command: str | bytes, keep: bool = False, check: bool = True) -> Answer:
        answer = self.wait(self.send(command), keep)
        if check and answer.status != b"OK":
            raise ImapError(f"{command!r}: {answer.status.decode()} {answer.text.decode(errors='replace')}")
        return answer

    def capability(self) -> set[str]:
        answer = self.command("CAPABILITY", keep=True)
        words = b" ".join(answer.lines).upper().split()
        return {w.decode() for w in words if w not in (b"*", b"CAPABILITY")}

    def login(self, user: str, password: str) -> None:
        self.command(f"LOGIN {quote(user)} {quote(password)}")
        self.capabilities = self.capability()

    def select(self, mailbox: str = "INBOX") -> int:
        """SELECT, returning the number of messages (the EXISTS response)."""
        answer = self.command(f"SELECT {quote(mailbox)}", keep=True)
        for line in answer.lines:
            words = line.split()
            if len(words) >= 3 and words[2].upper() == b"EXISTS":
                return int(words[1])
        raise ImapError("SELECT gave no EXISTS")

    def search(self, criteria: str) -> list[int]:
        answer = self.command(f"UID SEARCH {criteria}", keep=True)
        uids: list[int] = []
        for line in answer.lines:
            words = line.split()
            if len(words) >= 2 and words[1].upper() == b"SEARCH":
                uids += [int(w) for w in words[2:] if w.isdigit()]
        return uids

    def uids(self) -> list[int]:
        return sorted(self.search("ALL"))

    def append(self, mailbox: str, messages: Iterable[Message], window: int = 64) -> list[tuple[int, str]]:
        """APPEND each message with its flags and internal date; returns the index of each
        message the server refused, with what it said. With LITERAL+ (RFC 7888) up to ``window``
        APPENDs are in flight; without it, each waits for the server's continuation request."""
        refused: list[tuple[int, str]] = []
        plus = "LITERAL+" in self.capabilities
        pending: list[tuple[bytes, int]] = []

        def verdict(tag: bytes, index: int) -> None:
            answer = self.wait(tag)
            if answer.status != b"OK":
                refused.append((index, f"{answer.status.decode()} {answer.text.decode(errors='replace')}"))

        for message in messages:
            flags = " ".join(message.flags)
            head = f"APPEND {quote(mailbox)} ({flags}) {message.imap_date} {{{len(message.data)}{'+' if plus else ''}}}"
            self.tag += 1
            tag = b"b%d" % self.tag
            if plus:
                self.sock.sendall(tag + b" " + head.encode() + b"\r\n" + message.data + b"\r\n")
                pending.append((tag, message.index))
                if len(pending) >= window:
                    verdict(*pending.pop(0))
                continue
            self.sock.sendall(tag + b" " + head.encode() + b"\r\n")
            ready = self.read_line()
            while ready.startswith(b"* "):  # untagged news (EXISTS...) before the continuation
                ready = self.read_line()
            if ready.startswith(b"+"):
                self.sock.sendall(message.data + b"\r\n")
                verdict(tag, message.index)
            else:
                refused.append((message.index, ready.decode(errors="replace")))
        for tag, index in pending:
            verdict(tag, index)
        return refused

    def logout(self) -> None:
        try:
            self.command("LOGOUT", check=False)
        except (ImapError, OSError):
            pass
        finally:
            self.sock.close()


def signed_in(port: int, user: str, password: str) -> Connection:
    """A connection to the server on this machine's ``port``, logged in as ``user``."""
    conn = Connection("127.0.0.1", port)
    conn.login(user, password)
    return conn


def quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
