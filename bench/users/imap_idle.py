"""A minimal IMAP client for the users-per-box scenario: sign in, select INBOX, IDLE, and
on new mail leave IDLE, read the new message's subject and idle again, as a mail client
does. It uses the ``socket`` module, which Locust has monkey-patched with gevent's: a
blocked read yields to the other simulated users, so thousands of idle connections cost
one greenlet each."""

from __future__ import annotations

import re
import socket

EXISTS = re.compile(rb"^\* (\d+) EXISTS", re.I)
LITERAL = re.compile(rb"\{(\d+)\+?\}$")


class ImapError(Exception):
    pass


class IdleClient:
    def __init__(self, host: str, port: int, timeout: float = 60.0):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.buffer = b""
        self.counter = 0
        self.idle_tag: bytes | None = None
        greeting = self.read_line()
        if not greeting.startswith(b"* OK"):
            raise ImapError(f"greeting: {greeting[:80]!r}")

    # --- wire ---------------------------------------------------------------------------

    def _fill(self) -> None:
        data = self.sock.recv(65536)
        if not data:
            raise ImapError("the server closed the connection")
        self.buffer += data

    def read_line(self) -> bytes:
        """One response line, literals included ({n}\\r\\n then n bytes) as they came."""
        line = b""
        while True:
            while (end := self.buffer.find(b"\r\n")) < 0:
                self._fill()
            part, self.buffer = self.buffer[:end], self.buffer[end + 2 :]
            line += part
            literal = LITERAL.search(part)
            if literal is None:
                return line
            size = int(literal.group(1))
            while len(self.buffer) < size:
                self._fill()
            line += b"\r\n" + self.buffer[:size]
            self.buffer = self.buffer[size:]

    def command(self, text: str) -> list[bytes]:
        """Send a command, return its untagged lines; ImapError unless it ends in OK."""
        self.counter += 1
        tag = b"a%d" % self.counter
        self.sock.sendall(tag + b" " + text.encode() + b"\r\n")
        return self._until(tag)

    def _until(self, tag: bytes) -> list[bytes]:
        untagged = []
        while True:
            line = self.read_line()
            if line.startswith(tag + b" "):
                if not line[len(tag) + 1 :].upper().startswith(b"OK"):
                    raise ImapError(line[:200].decode(errors="replace"))
                return untagged
            untagged.append(line)

    # --- commands -----------------------------------------------------------------------

    @staticmethod
    def quote(text: str) -> str:
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'

    def login(self, user: str, password: str) -> None:
        self.command(f"LOGIN {self.quote(user)} {self.quote(password)}")

    def select(self, folder: str = "INBOX") -> int:
        """The number of messages in the folder."""
        for line in self.command(f"SELECT {folder}"):
            if match := EXISTS.match(line):
                return int(match.group(1))
        raise ImapError("SELECT gave no EXISTS")

    def idle(self) -> None:
        self.counter += 1
        self.idle_tag = b"a%d" % self.counter
        self.sock.sendall(self.idle_tag + b" IDLE\r\n")
        line = self.read_line()
        if not line.startswith(b"+"):
            raise ImapError(f"IDLE refused: {line[:200]!r}")

    def wait(self, seconds: float) -> int | None:
        """In IDLE: the new message count when the server announces one, None when
        ``seconds`` pass first. Other updates (flags, expunges) are read and skipped."""
        self.sock.settimeout(seconds)
        try:
            while True:
                line = self.read_line()
                if match := EXISTS.match(line):
                    return int(match.group(1))
        except TimeoutError:
            return None
        finally:
            self.sock.settimeout(60.0)

    def done(self) -> None:
        assert self.idle_tag is not None
        self.sock.sendall(b"DONE\r\n")
        self._until(self.idle_tag)
        self.idle_tag = None

    def subject(self, number: int) -> str:
        """The Subject: of message ``number`` (without marking it seen)."""
        lines = self.command(f"FETCH {number} (BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
        text = b"\n".join(lines).decode("utf-8", "replace")
        match = re.search(r"Subject:\s*(.*)", text, re.I)
        return match.group(1).strip() if match else ""

    def close(self) -> None:
        try:
            if self.idle_tag is not None:
                self.done()
            self.command("LOGOUT")
        except (OSError, ImapError):
            pass
        finally:
            self.sock.close()
