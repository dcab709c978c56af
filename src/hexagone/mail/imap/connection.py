"""One IMAP client connection: bytes in, bytes out, and the limits that keep a client
from holding more of the server than its share.

An :class:`asyncio.Protocol` rather than streams: the session pulls events from the
:class:`~hexagone.mail.imap.parser.Framer` this object feeds, and reading is paused while
more than ``READ_AHEAD`` bytes of pipelined commands wait to be executed (TCP then slows
the client down: a client can queue as many commands as it likes, the server holds at
most that much of them). Writing is buffered by the session and flushed in large chunks;
a client that stops reading its responses is disconnected after ``WRITE_TIMEOUT``.

:func:`session_guard` is the life of a session over a connection, the same for every
protocol served this way (IMAP, ManageSieve).

STARTTLS swaps the transport in place; whatever the client had sent after the command,
in clear, is dropped (RFC 3501 6.2.1 and the command-injection attacks of 2011).

COMPRESS=DEFLATE (RFC 4978, with :mod:`zlib`, raw deflate both ways) sits between the
transport and the framer: what arrives is inflated ``INFLATE_CHUNK`` bytes at a time and
only while the framer holds less than ``READ_AHEAD``, so a small compressed input that
inflates to gigabytes (a deflate bomb) is never inflated ahead of the session; what the
session writes is compressed at each flush and pushed out with a sync flush.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import ssl
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable

from hexagone.core import i18n
from hexagone.core.failures import log_failure
from hexagone.mail.imap.parser import Event, Framer

log = logging.getLogger("hexagone.mail.imap")

READ_AHEAD = 1024 * 1024
WRITE_TIMEOUT = 300.0
FLUSH_BYTES = 256 * 1024
INFLATE_CHUNK = 64 * 1024


class Closed(Exception):
    """The client went away, or stopped reading."""


@contextlib.asynccontextmanager
async def session_guard(
    conn: Connection, log: logging.Logger, what: str, *, before_close: Callable[[], None] | None = None
) -> AsyncIterator[None]:
    """Around a session's whole run on ``conn``: service messages in English (the
    protocol's language); the client going away (:class:`Closed`) ends it quietly; any
    other failure is logged as ``what`` and ends this session only, never the others;
    however it ends, ``before_close`` runs, then the connection is closed."""
    i18n.set_language("en")  # service messages reach the client in the protocol's language
    try:
        yield
    except Closed:
        pass
    except Exception as error:  # the last guard: one broken session never takes others down
        log_failure(log, what, error)
    finally:
        if before_close is not None:
            before_close()
        conn.close()


class Connection(asyncio.Protocol):
    """Transport glue for one client; ``session_factory`` makes the session that runs it."""

    __slots__ = (
        "_closed",
        "_compressed_in",
        "_data_waiter",
        "_deflater",
        "_drain_waiter",
        "_inflater",
        "_paused_reading",
        "_paused_writing",
        "_session_factory",
        "framer",
        "out",
        "out_size",
        "peer_ip",
        "pushed_back",
        "task",
        "tls",
        "transport",
    )

    def __init__(self, session_factory: Callable[[Connection], object]):
        self._session_factory = session_factory
        self.transport: asyncio.Transport | None = None
        self.framer: Framer | None = None
        self.peer_ip = ""
        self.tls = False
        self.out: list[bytes] = []  # what the session wrote, sent at the next flush
        self.out_size = 0
        self._data_waiter: asyncio.Future[None] | None = None
        self._drain_waiter: asyncio.Future[None] | None = None
        self._paused_reading = False
        self._paused_writing = False
        self._closed = False
        self.task: asyncio.Task[None] | None = None
        self.pushed_back: Event | None = None  # an event looked at ahead of its turn
        self._inflater: zlib._Decompress | None = None  # COMPRESS=DEFLATE, once started
        self._deflater: zlib._Compress | None = None
        self._compressed_in = b""  # received, not yet inflated

    # --- asyncio.Protocol --------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        peer = transport.get_extra_info("peername")
        self.peer_ip = str(peer[0]) if isinstance(peer, tuple) and peer else ""
        session = self._session_factory(self)
        self.task = asyncio.get_running_loop().create_task(session.run())  # type: ignore[attr-defined]

    def data_received(self, data: bytes) -> None:
        if self.framer is None:
            return
        if self._inflater is not None:
            self._compressed_in += data
            self._inflate()
        else:
            self.framer.feed(data)
        if self._data_waiter is not None:
            if not self._data_waiter.done():
                self._data_waiter.set_result(None)
        elif (
            (len(self.framer.buffer) > READ_AHEAD or self._compressed_in)
            and not self._paused_reading
            and self.transport is not None
        ):
            self.transport.pause_reading()
            self._paused_reading = True

    def eof_received(self) -> bool:
        self._lost()
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        self._lost()

    def pause_writing(self) -> None:
        self._paused_writing = True

    def resume_writing(self) -> None:
        self._paused_writing = False
        if self._drain_waiter is not None and not self._drain_waiter.done():
            self._drain_waiter.set_result(None)

    def _lost(self) -> None:
        self._closed = True
        for waiter in (self._data_waiter, self._drain_waiter):
            if waiter is not None and not waiter.done():
                waiter.set_result(None)

    # --- reading -----------------------------------------------------------------------

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def is_loopback(self) -> bool:
        try:
            return ipaddress.ip_address(self.peer_ip.split("%")[0]).is_loopback
        except ValueError:
            return False

    # --- COMPRESS=DEFLATE -----------------------------------------------------------------

    @property
    def compressed(self) -> bool:
        return self._inflater is not None

    def start_deflate(self) -> None:
        """Compress both ways from now on; the bytes already buffered arrived compressed."""
        assert self.framer is not None
        self._inflater = zlib.decompressobj(-zlib.MAX_WBITS)
        self._deflater = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
        self._compressed_in = bytes(self.framer.buffer)
        self.framer.buffer.clear()
        self._inflate()

    def _inflate(self) -> bool:
        """Inflate what was received while the framer has room; True if bytes were added."""
        assert self._inflater is not None and self.framer is not None
        added = False
        while self._compressed_in and len(self.framer.buffer) <= READ_AHEAD:
            try:
                out = self._inflater.decompress(self._compressed_in, INFLATE_CHUNK)
            except zlib.error:
                log.info("IMAP client sent invalid deflate data")
                self._compressed_in = b""
                self.abort()
                return added
            self._compressed_in = self._inflater.unconsumed_tail
            if out:
                self.framer.feed(out)
                added = True
            elif not self._compressed_in or self._inflater.eof:
                self._compressed_in = b""
                break
        return added

    async def wait_data(self) -> None:
        """Wait for more bytes; raises :class:`Closed` when none can come."""
        if self._compressed_in and self._inflate():
            return
        if self._closed:
            raise Closed
        if self._paused_reading and self.transport is not None:
            self._paused_reading = False
            self.transport.resume_reading()
        self._data_waiter = asyncio.get_running_loop().create_future()
        try:
            await self._data_waiter
        finally:
            self._data_waiter = None
        if self._closed and self.framer is not None and not self.framer.buffer:
            raise Closed

    def wake(self) -> None:
        """End a wait for data early (IDLE hears of a change this way)."""
        if self._data_waiter is not None and not self._data_waiter.done():
            self._data_waiter.set_result(None)

    def buffered_event(self) -> Event | None:
        """The next event if its bytes are already here (never waits): a command may look
        at what the client pipelined behind it, and :meth:`push_back` what it leaves."""
        assert self.framer is not None
        if self.pushed_back is not None:
            event, self.pushed_back = self.pushed_back, None
            return event
        return self.framer.next_event()

    def push_back(self, event: Event) -> None:
        assert self.pushed_back is None
        self.pushed_back = event

    async def next_event(self, between: Callable[[], Awaitable[None]] | None = None) -> Event:
        """The client's next command (or part of one). ``between`` runs each time the
        wait is woken with nothing of a command received: what a session tells without
        being asked goes there, never inside a command (RFC 5465's NOTIFY)."""
        assert self.framer is not None
        while (event := self.buffered_event()) is None:
            if self._closed:
                raise Closed
            await self.wait_data()
            if between is not None and self.framer.idle:
                await between()
        return event

    async def read_line(self) -> bytes:
        """A raw line (see :meth:`Framer.read_line`)."""
        assert self.framer is not None
        while (line := self.framer.read_line()) is None:
            await self.wait_data()
        return line

    # --- writing -----------------------------------------------------------------------

    def write(self, data: bytes) -> None:
        self.out.append(data)
        self.out_size += len(data)

    async def flush(self) -> None:
        """Send what is buffered and wait until the transport can take more."""
        if self.out and self.transport is not None and not self._closed:
            self.transport.writelines(self._outgoing())
        self.out = []
        self.out_size = 0
        await self.drain()

    async def maybe_flush(self) -> None:
        """Flush once a good chunk is buffered: large writes, few system calls."""
        if self.out_size >= FLUSH_BYTES:
            await self.flush()

    async def drain(self) -> None:
        if self._closed:
            raise Closed
        if not self._paused_writing:
            return
        self._drain_waiter = asyncio.get_running_loop().create_future()
        try:
            async with asyncio.timeout(WRITE_TIMEOUT):
                await self._drain_waiter
        except TimeoutError:
            self.close()
            raise Closed from None
        finally:
            self._drain_waiter = None
        if self._closed:
            raise Closed

    def close(self) -> None:
        if self.transport is not None and not self.transport.is_closing():
            if self.out:
                self.transport.writelines(self._outgoing())
                self.out = []
                self.out_size = 0
            self.transport.close()
        self._closed = True

    def _outgoing(self) -> list[bytes]:
        if self._deflater is None:
            return self.out
        deflater = self._deflater
        return [*(deflater.compress(piece) for piece in self.out), deflater.flush(zlib.Z_SYNC_FLUSH)]

    def abort(self) -> None:
        if self.transport is not None:
            self.transport.abort()
        self._closed = True

    async def start_tls(self, context: ssl.SSLContext) -> None:
        """Wrap the connection in TLS; the caller has written (not yet sent) its OK."""
        assert self.transport is not None and self.framer is not None
        self.framer.clear()
        self.transport.writelines(self.out)
        self.out = []
        self.out_size = 0
        loop = asyncio.get_running_loop()
        self.transport = await loop.start_tls(self.transport, self, context, server_side=True, ssl_handshake_timeout=30)
        self.tls = True
