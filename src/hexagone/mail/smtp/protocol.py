"""The SMTP session both listeners share, and the loop that serves it.

aiosmtpd's :class:`~aiosmtpd.smtp.SMTP` holds the RFC 5321 state machine; handlers
(:mod:`.inbound`, :mod:`.submission`) answer its hooks and never parse SMTP. This
subclass adds what the protocol layer owes every client whatever the handler:

- an RFC 3463 enhanced status code on every reply (RFC 2034), since aiosmtpd's own
  replies (``503 Error: need MAIL command``) carry none;
- PIPELINING (aiosmtpd reads commands one by one from a buffer, so it already copes)
  and ENHANCEDSTATUSCODES in the EHLO reply;
- plain-text AUTH only over TLS, except from loopback;
- per-client limits: connections (:mod:`.limits`), and errors per session: after
  ``HEXAGONE_SMTP_MAX_ERRORS`` refused commands the connection is closed with 421;
- no control character (NUL included) in HELO, EHLO, MAIL, RCPT, VRFY and AUTH: such a
  command gets ``501`` and changes nothing (an address must never carry them into
  headers, logs or IMAP);
- ``421 4.4.2`` before closing an idle session (aiosmtpd closes without a word), and a
  timer that counts silence during DATA, not the length of a transfer;
- DATA read into one buffer, bounded (:mod:`.data`);
- a full disk answered ``452 4.3.1`` (RFC 3463) with one log line, not a traceback.

It overrides ``_handle_client`` (to refuse a connection before the greeting),
``_timeout_cb``, ``_getaddr`` (cheaper) and ``smtp_DATA``, and reads ``_auth_require_tls``, ``_reader`` and
``_call_handler_hook``: private parts of aiosmtpd, which is pinned for that reason.
"""

from __future__ import annotations

import asyncio
import email.utils
import inspect
import ipaddress
import logging
import re
import ssl
import types
from collections.abc import Callable
from email._header_value_parser import get_addr_spec, get_angle_addr
from email.errors import HeaderParseError
from typing import Any

import aiosmtpd.smtp
from aiosmtpd.smtp import MISSING, SMTP, Envelope, Session, syntax

from hexagone.core import blobs, i18n
from hexagone.core.config import Settings, get_settings
from hexagone.core.db import utcnow
from hexagone.core.failures import log_failure
from hexagone.mail import tls
from hexagone.mail.smtp import data
from hexagone.mail.smtp.limits import ClientLimits

log = logging.getLogger("hexagone.mail.smtp")

IDENT = "Hexagone ESMTP"
MAX_LINE = 65_536  # longer than RFC 5321's 1000, as Postfix is lenient; bounded all the same
TIMEOUT = 300.0  # RFC 5321 4.5.3.2.7: the server waits five minutes for a command

# The enhanced code a reply gets when its text has none, by reply code (RFC 3463).
ENHANCED = {
    "221": "2.0.0",
    "235": "2.7.0",
    "250": "2.0.0",
    "251": "2.1.5",
    "252": "2.5.0",
    "421": "4.3.0",
    "450": "4.2.0",
    "451": "4.3.0",
    "452": "4.3.1",
    "454": "4.7.0",
    "500": "5.5.2",
    "501": "5.5.4",
    "502": "5.5.1",
    "503": "5.5.1",
    "504": "5.5.4",
    "530": "5.7.0",
    "535": "5.7.8",
    "538": "5.7.11",
    "550": "5.0.0",
    "552": "5.3.4",
    "553": "5.1.3",
    "554": "5.0.0",
    "555": "5.5.4",
}
_REPLY = re.compile(r"^([245])(\d\d)([ -])(.*)$", re.S)


_AUTH_NAMES: dict[type, tuple[str, ...]] = {}


def _auth_names(cls: type) -> tuple[str, ...]:
    if cls not in _AUTH_NAMES:
        _AUTH_NAMES[cls] = tuple(sorted(name for name in dir(cls) if name.startswith("auth_")))
    return _AUTH_NAMES[cls]


def _auth_members(obj: object) -> list[tuple[str, Any]]:
    """What aiosmtpd's ``SMTP.__init__`` reads of ``inspect.getmembers(obj)``, on the
    session and on its handler for every new connection: the members named ``auth_*``
    (it drops the rest). getmembers reads every attribute of the object, which was a
    sixth of the CPU of a one-message connection (``bench/mail/profile_mail.py``); here
    the names are found once per class."""
    return [(name, getattr(obj, name)) for name in _auth_names(type(obj))]


# aiosmtpd.smtp uses inspect for that and for one signature() only.
aiosmtpd.smtp.inspect = types.SimpleNamespace(getmembers=_auth_members, signature=inspect.signature)  # type: ignore[assignment]
_HAS_ENHANCED = re.compile(r"^[245]\.\d{1,3}\.\d{1,3}(\s|$)")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def with_enhanced_code(reply: str) -> str:
    """``503 Error: need MAIL command`` → ``503 5.5.1 Error: need MAIL command``."""
    found = _REPLY.match(reply)
    if found is None or _HAS_ENHANCED.match(found[4]):
        return reply
    code = found[1] + found[2]
    return f"{code}{found[3]}{ENHANCED.get(code, found[1] + '.0.0')} {found[4]}"


def is_loopback(ip: str) -> bool:
    try:
        return ipaddress.ip_address(ip).is_loopback
    except ValueError:
        return False


def peer_ip(session: Session) -> str:
    peer = session.peer
    return str(peer[0]) if isinstance(peer, tuple) and peer else ""


def take_content(envelope: Envelope) -> bytes:
    """The message of the transaction, which the envelope then no longer holds: a handler
    that builds a new version of a large message must not keep the old one alive."""
    content = envelope.original_content or b""
    envelope.original_content = envelope.content = None
    return content


def address_problem(envelope: Envelope, address: str) -> str | None:
    """The reply refusing a MAIL FROM or RCPT TO address, or None if it will do."""
    if len(address) > 320:
        return "553 5.1.3 Address too long"
    try:
        address.encode("utf-8")
    except UnicodeEncodeError:  # bytes that were not UTF-8, kept as surrogates by aiosmtpd
        return "553 5.1.7 Malformed address"
    if not address.isascii() and not envelope.smtp_utf8:
        return "553 5.6.7 Non-ASCII address without SMTPUTF8"
    return None


def received(
    session: Session,
    *,
    hostname: str,
    recipient: str | None,
    queue_id: str,
    authenticated: bool,
    utf8: bool,
    client: bool = True,
) -> str:
    """The ``Received:`` trace field (RFC 5321 4.4; protocol names of RFC 3848 and 6531).
    ``client=False`` leaves out where a signed-in user sent from (their address is
    personal data the recipients have no need of)."""
    helo = re.sub(r"[^\w.:\[\]-]", "", session.host_name or "unknown")[:200]
    tls, auth = ("S" if session.ssl else ""), ("A" if authenticated else "")
    protocol = f"UTF8SMTP{tls}{auth}" if utf8 else f"ESMTP{tls}{auth}"
    clause = f" for <{recipient}>" if recipient else ""
    origin = f"from {helo} ([{peer_ip(session)}])\r\n\t" if client else ""
    return (
        f"Received: {origin}by {hostname} (Hexagone) with {protocol} id {queue_id}"
        f"{clause};\r\n\t{email.utils.format_datetime(utcnow())}"
    )


class Handler:
    """What both listeners' handlers share: the EHLO extensions and the answer to a
    failure inside a hook (a temporary one, so the client tries again)."""

    async def handle_EHLO(
        self, server: SMTP, session: Session, envelope: Envelope, hostname: str, responses: list[str]
    ) -> list[str]:
        session.host_name = hostname
        return [*responses[:-1], "250-PIPELINING", "250-ENHANCEDSTATUSCODES", responses[-1]]

    async def handle_exception(self, error: Exception) -> str:
        if blobs.is_storage_full(error):
            log.error("SMTP: a message was refused with 452 4.3.1, the disk is full: %s", error)
            return "452 4.3.1 Insufficient system storage, try again later"
        log_failure(log, "SMTP session", error)
        return "451 4.3.0 Local error in processing, try again later"


class Protocol(SMTP):
    line_length_limit = MAX_LINE

    def __init__(
        self,
        handler: Handler,
        *,
        settings: Settings,
        limits: ClientLimits,
        tls_context: ssl.SSLContext,
        auth_required: bool = False,
        timeout: float = TIMEOUT,
        transfers: data.Transfers = data.TRANSFERS,
    ):
        super().__init__(
            handler,
            data_size_limit=settings.mail_max_message_bytes,
            enable_SMTPUTF8=True,
            decode_data=False,
            hostname=settings.resolved_mail_hostname,
            ident=IDENT,
            tls_context=tls_context,
            timeout=timeout,
            auth_required=auth_required,
            auth_require_tls=True,
            loop=asyncio.get_running_loop(),
        )
        self.transfers = transfers
        self._data_heard = 0.0
        self.limits = limits
        self.max_errors = settings.smtp_max_errors
        self.errors = 0
        self._admitted: str | None = None
        self.registry: set[Protocol] | None = None  # the listener's open sessions, closed when it stops
        self._plain_replies = False  # HELO/EHLO replies carry no enhanced code (RFC 2034)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        first = self.transport is None
        super().connection_made(transport)
        if first and self.session is not None and is_loopback(peer_ip(self.session)):
            self._auth_require_tls = False  # the password never leaves the machine

    def connection_lost(self, error: Exception | None) -> None:
        if self.registry is not None:
            self.registry.discard(self)
        if self._admitted is not None:
            self.limits.release(self._admitted)
            self._admitted = None
        super().connection_lost(error)

    async def _handle_client(self) -> None:
        assert self.session is not None and self.transport is not None
        i18n.set_language("en")  # replies are protocol text: the services' messages in English
        ip = peer_ip(self.session)
        refusal = self.limits.admit(ip)
        if refusal is not None:
            log.warning("SMTP connection from %s refused: %s", ip, refusal)
            await super().push(f"421 4.7.0 {self.hostname} {refusal}")
            self.transport.close()
            return
        self._admitted = ip
        await super()._handle_client()

    async def push(self, status: Any) -> None:
        if isinstance(status, bytes):  # AUTH challenges
            await super().push(status)
            return
        reply = status if self._plain_replies or status.startswith("220") else with_enhanced_code(status)
        await super().push(reply)
        if reply[:1] in "45" and not reply.startswith("421"):
            self.errors += 1
            if self.max_errors and self.errors >= self.max_errors and self.transport is not None:
                log.warning("SMTP client %s made too many errors", peer_ip(self.session) if self.session else "?")
                await super().push("421 4.7.0 Too many errors, closing the connection")
                self.transport.close()

    def _timeout_cb(self) -> None:
        """Say why before closing an idle session (RFC 5321 4.5.3.2.7 lets the server
        close; 421 is how it tells the client, as Postfix does)."""
        # aiosmtpd types its transport as BaseTransport; the one a server connection gets can write.
        if isinstance(self.transport, asyncio.WriteTransport) and not self.transport.is_closing():
            self.transport.write(f"421 4.4.2 {self.hostname} Error: timeout exceeded\r\n".encode())
        super()._timeout_cb()

    async def _refused_control_characters(self, arg: str | None) -> bool:
        """Answer 501 to a command whose argument holds a control character."""
        if arg is None or _CONTROL.search(arg) is None:
            return False
        await self.push("501 Control characters are not allowed in commands")  # 5.5.4 added after EHLO
        return True

    async def _plainly(self, command: Callable[[str], Any], arg: str) -> None:
        self._plain_replies = True
        try:
            if not await self._refused_control_characters(arg):
                await command(arg)
        finally:
            self._plain_replies = False

    def _getaddr(self, arg: str) -> tuple[str | None, str | None]:
        """aiosmtpd's, less the ``typing.Protocol`` class it defines at each call (for its
        type checker): building that class was 2-3 % of the inbound CPU (MAIL and RCPT)."""
        if not arg:
            return "", ""
        try:
            parse = get_angle_addr if arg.lstrip().startswith("<") else get_addr_spec
            address, rest = parse(arg)
        except HeaderParseError:
            return None, None
        addr: str = address.addr_spec
        if self.local_part_limit and len(addr.rpartition("@")[0]) > self.local_part_limit:
            return None, None
        return addr, rest

    @syntax("HELO hostname")
    async def smtp_HELO(self, hostname: str) -> None:
        await self._plainly(super().smtp_HELO, hostname)

    @syntax("EHLO hostname")
    async def smtp_EHLO(self, hostname: str) -> None:
        await self._plainly(super().smtp_EHLO, hostname)

    @syntax("MAIL FROM: <address>", extended=" [SP <mail-parameters>]")
    async def smtp_MAIL(self, arg: str | None) -> None:
        if not await self._refused_control_characters(arg):
            await super().smtp_MAIL(arg)

    @syntax("RCPT TO: <address>", extended=" [SP <mail-parameters>]")
    async def smtp_RCPT(self, arg: str | None) -> None:
        if not await self._refused_control_characters(arg):
            await super().smtp_RCPT(arg)

    @syntax("VRFY <address>")
    async def smtp_VRFY(self, arg: str) -> None:
        if not await self._refused_control_characters(arg):
            await super().smtp_VRFY(arg)

    @syntax("AUTH <mechanism>")
    async def smtp_AUTH(self, arg: str) -> None:
        if not await self._refused_control_characters(arg):
            await super().smtp_AUTH(arg)

    @syntax("DATA")
    async def smtp_DATA(self, arg: str) -> None:
        """aiosmtpd's DATA, with the block read by :class:`.data.Block`. The transaction
        ends whatever happens, so that a failed delivery does not keep the message."""
        if await self.check_helo_needed() or await self.check_auth_needed("DATA"):
            return
        assert self.envelope is not None
        if not self.envelope.rcpt_tos:
            await self.push("503 Error: need RCPT command")
            return
        if arg:
            await self.push("501 Syntax: DATA")
            return
        await self.push("354 End data with <CR><LF>.<CR><LF>")
        block = data.Block(limit=self.data_size_limit, transfers=self.transfers)
        try:
            await block.read(self._reader, self._data_arrived)
            if block.refusal is not None:
                status: Any = block.refusal
            else:
                self.envelope.original_content = self.envelope.content = block.content()
                self._reset_timeout()  # the delivery's time is not the client's silence
                status = await self._call_handler_hook("DATA")
        finally:
            block.close()
            self._set_post_data_state()
        await self.push("250 OK" if status is MISSING else status)

    def _data_arrived(self) -> None:
        """Restart the idle timer as data comes, at most once a second or so (a timer per
        line of a large message would cost more than the line)."""
        now = self.loop.time()
        if now - self._data_heard >= min(1.0, self._timeout_duration / 4):
            self._data_heard = now
            self._reset_timeout()


class Listener:
    """One TCP listener serving :class:`Protocol` sessions until cancelled.

    ``reuse_port`` lets every worker process of ``hexagone serve`` bind the same port;
    the kernel spreads the connections between them."""

    def __init__(
        self, name: str, port: int, make_protocol: Callable[[Settings, ClientLimits, ssl.SSLContext], Protocol]
    ):
        self.name = name
        self.port = port
        self.make_protocol = make_protocol
        self.sessions: set[Protocol] = set()

    async def serve(self) -> None:
        settings = get_settings()
        context = await asyncio.to_thread(tls.server_context, settings)
        limits = ClientLimits(settings)

        def factory() -> Protocol:
            protocol = self.make_protocol(settings, limits, context)
            protocol.registry = self.sessions
            self.sessions.add(protocol)
            return protocol

        host = settings.resolved_mail_listen_host
        try:
            server = await asyncio.get_running_loop().create_server(factory, host=host, port=self.port, reuse_port=True)
        except OSError:
            log.exception("%s cannot listen on %s:%d", self.name, host, self.port)
            raise
        log.info("%s listening on %s:%d", self.name, host, self.port)
        try:
            await asyncio.Event().wait()
        finally:
            server.close()
            for session in list(self.sessions):
                if session.transport is not None:
                    session.transport.close()
