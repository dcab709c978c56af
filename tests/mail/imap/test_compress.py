"""COMPRESS=DEFLATE (RFC 4978): after ``COMPRESS DEFLATE`` and its OK, both directions
are raw deflate streams; a client's small stream that inflates to hundreds of megabytes
(a deflate bomb) is inflated only as fast as the session reads it."""

from __future__ import annotations

import re
import zlib
from pathlib import Path

import pytest

from tests.conftest import Server
from tests.factories import TestUser
from tests.mail.imap.conftest import Raw

pytestmark = pytest.mark.usefixtures("migrated")

BOMB_BYTES = 256 * 1024 * 1024  # what the bomb inflates to
MEMORY_MARGIN = 32 * 1024 * 1024
MESSAGE = b"Subject: new\r\n\r\nhello\r\n"


class Deflated:
    """A raw client after COMPRESS DEFLATE: what it sends is deflated, what it reads inflated."""

    def __init__(self, client: Raw):
        self.client = client
        self.deflater = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
        self.inflater = zlib.decompressobj(-zlib.MAX_WBITS)
        self.clear = self.inflater.decompress(client.buffer)  # anything already read arrived deflated
        client.buffer = b""

    def send(self, data: bytes) -> None:
        self.client.send(self.deflater.compress(data) + self.deflater.flush(zlib.Z_SYNC_FLUSH))

    def until(self, tag: bytes) -> list[bytes]:
        while not re.search(rb"(^|\r\n)" + re.escape(tag) + rb" [^\r\n]*\r\n", self.clear):
            chunk = self.client.sock.recv(65536)
            if not chunk:
                raise ConnectionError(f"closed by the server after {self.clear[-200:]!r}")
            self.clear += self.inflater.decompress(chunk)
        lines, self.clear = self.clear.split(b"\r\n"), b""
        return [line for line in lines if line]

    def command(self, tag: bytes, text: bytes) -> list[bytes]:
        self.send(tag + b" " + text + b"\r\n")
        return self.until(tag)


def _compressed(raw, user: TestUser) -> Deflated:
    client = raw(user)
    assert b"COMPRESS=DEFLATE" in client.command(b"c", b"CAPABILITY")[0].split()
    assert client.command(b"z", b"COMPRESS DEFLATE") == [b"z OK DEFLATE active"]  # the last line in clear
    return Deflated(client)


async def test_compress_deflate_carries_the_session_both_ways(raw, five: TestUser) -> None:
    client = _compressed(raw, five)
    lines = client.command(b"s", b"SELECT INBOX")
    assert b"* 5 EXISTS" in lines and lines[-1].startswith(b"s OK")
    lines = client.command(b"f", b"FETCH 1:5 (BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
    assert sum(line.startswith(b"Subject: message ") for line in lines) == 5 and lines[-1].startswith(b"f OK")


async def test_compress_deflate_idle_hears_an_arrival(raw, five: TestUser) -> None:
    """K-9 Mail and FairEmail idle on a compressed connection: what IDLE sends is flushed
    through the deflate stream at once, not held until more output comes."""
    client = _compressed(raw, five)
    client.command(b"s", b"SELECT INBOX")
    client.send(b"i IDLE\r\n")
    assert client.until(b"+") == [b"+ idling"]
    writer = raw(five)  # the server hears of it on its event bus, as it would of a delivery
    writer.send(b"a APPEND INBOX {%d+}\r\n%b\r\n" % (len(MESSAGE), MESSAGE))
    assert writer.until(b"a")[-1].startswith(b"a OK")
    assert client.until(b"*") == [b"* 6 EXISTS", b"* 6 RECENT"]
    client.send(b"DONE\r\n")
    assert client.until(b"i")[-1].startswith(b"i OK")


async def test_compress_twice_is_no_compressionactive(raw, user: TestUser) -> None:
    client = _compressed(raw, user)
    assert client.command(b"z", b"COMPRESS DEFLATE") == [b"z NO [COMPRESSIONACTIVE] DEFLATE is already active"]
    assert client.command(b"n", b"NOOP")[-1].startswith(b"n OK")


@pytest.mark.parametrize("command", [b"COMPRESS GZIP", b"COMPRESS", b"COMPRESS DEFLATE extra"])
async def test_compress_malformed_is_bad_and_stays_in_clear(raw, user: TestUser, command: bytes) -> None:
    client = raw(user)
    assert client.command(b"z", command)[-1].startswith(b"z BAD")
    assert client.command(b"n", b"NOOP")[-1].startswith(b"n OK")


async def test_compress_before_login_is_refused(raw) -> None:
    client = raw()
    assert client.command(b"z", b"COMPRESS DEFLATE")[-1].startswith(b"z BAD")


async def test_compress_invalid_deflate_data_closes_the_connection(raw, user: TestUser) -> None:
    client = _compressed(raw, user)
    client.client.send(b"\xff" * 64)  # not a deflate block
    assert client.client.sock.recv(65536) == b""


def _memory(server: Server) -> dict[int, tuple[int, int]]:
    """Resident and peak resident memory (bytes) of the server's processes: the one
    started and its workers, one of which serves IMAP."""
    found, pending = {}, [server.process.pid]
    while pending:
        pid = pending.pop()
        status = Path(f"/proc/{pid}/status").read_text()
        sizes = {m.group(1): int(m.group(2)) * 1024 for m in re.finditer(r"(VmRSS|VmHWM):\s+(\d+) kB", status)}
        found[pid] = (sizes["VmRSS"], sizes["VmHWM"])
        for task in Path(f"/proc/{pid}/task").iterdir():
            pending += [int(child) for child in (task / "children").read_text().split()]
    return found


async def test_compress_deflate_bomb_is_inflated_as_read_not_ahead(raw, server: Server, user: TestUser) -> None:
    client = _compressed(raw, user)
    assert client.command(b"n", b"NOOP")[-1].startswith(b"n OK")
    before = _memory(server)
    chunk = b"A" * (1024 * 1024)
    wire = [client.deflater.compress(b"x ")]
    wire += [client.deflater.compress(chunk) for _ in range(BOMB_BYTES // len(chunk))]
    wire.append(client.deflater.compress(b"\r\nn NOOP\r\n") + client.deflater.flush(zlib.Z_SYNC_FLUSH))
    client.client.send(b"".join(wire))  # one line of 256 MB, a few hundred KB on the wire, at once
    lines = client.until(b"n")
    assert lines[0] == b"x BAD Line too long" and lines[-1].startswith(b"n OK")
    after = _memory(server)
    assert all(after[pid][1] <= max(peak, resident + MEMORY_MARGIN) for pid, (resident, peak) in before.items())
