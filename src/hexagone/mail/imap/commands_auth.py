"""Commands valid in any state, and signing in: CAPABILITY, NOOP, LOGOUT, ID, ENABLE,
STARTTLS, LOGIN, AUTHENTICATE PLAIN, and COMPRESS (RFC 4978) once signed in.

A password travels in clear only over TLS or on the loopback interface; elsewhere the
server advertises LOGINDISABLED and offers no mechanism until STARTTLS. Sign-in goes
through :func:`hexagone.mail.service.auth.authenticate`, which audits failures and rate
limits them per account and per address, across protocols.
"""

from __future__ import annotations

import base64
import binascii
from typing import ClassVar

from hexagone.core.exceptions import Invalid, RateLimited
from hexagone.mail import tls
from hexagone.mail.imap import utf7
from hexagone.mail.imap.account import Account
from hexagone.mail.imap.arguments import Args
from hexagone.mail.imap.command_base import ANY, AUTH, NOT_AUTH, CommandTable, SessionBase
from hexagone.mail.imap.commands_messages import enable_condstore
from hexagone.mail.imap.connection import Closed
from hexagone.mail.imap.parser import Atom, CommandError, Literal, Quoted
from hexagone.mail.imap.state import State
from hexagone.mail.service import auth

# LITERAL+ only: RFC 7888 5 forbids advertising LITERAL- beside it, and every literal a
# LITERAL- client may send (non-synchronizing up to 4096 bytes) LITERAL+ accepts.
# IMAP4rev2 beside IMAP4rev1 (RFC 9051 appendix A): a client that wants rev2 sends
# ENABLE IMAP4rev2; any other keeps IMAP4rev1's semantics.
BASE_CAPABILITIES = ["IMAP4rev1", "IMAP4rev2", "LITERAL+", "SASL-IR", "ID", "ENABLE", "IDLE"]
# What ENABLE turns on, and what each implies (RFC 7162 3.2.3: QRESYNC implies CONDSTORE).
ENABLEABLE = {
    "CONDSTORE": (),
    "QRESYNC": ("CONDSTORE",),
    "UTF8=ACCEPT": (),  # RFC 6855
    # RFC 9051: once enabled there is no \Recent, SEARCH answers ESEARCH, names are UTF-8,
    # SELECT sends the folder's LIST and LSUB and CHECK are gone (docs/mail-imap.md).
    "IMAP4rev2": ("UTF8=ACCEPT",),
}
MAX_ID_PAIRS = 30


class AuthCommands(SessionBase):
    COMMANDS: ClassVar[CommandTable] = {
        "CAPABILITY": ("cmd_capability", ANY),
        "NOOP": ("cmd_noop", ANY),
        "LOGOUT": ("cmd_logout", ANY),
        "ID": ("cmd_id", ANY),
        "STARTTLS": ("cmd_starttls", NOT_AUTH),
        "LOGIN": ("cmd_login", NOT_AUTH),
        "AUTHENTICATE": ("cmd_authenticate", NOT_AUTH),
        "ENABLE": ("cmd_enable", AUTH),
        "COMPRESS": ("cmd_compress", AUTH),
    }
    CAPABILITIES: ClassVar[tuple[str, ...]] = ("UTF8=ACCEPT", "COMPRESS=DEFLATE")

    def capabilities(self) -> str:
        caps = list(BASE_CAPABILITIES)
        if self.state == State.NOT_AUTHENTICATED:
            if not self.conn.tls:
                caps.append("STARTTLS")
            caps.append("AUTH=PLAIN" if self.clear_text_allowed else "LOGINDISABLED")
        else:
            caps += self.CAPABILITIES
            caps.append(f"APPENDLIMIT={self.settings.mail_max_message_bytes}")
        return " ".join(caps)

    @property
    def clear_text_allowed(self) -> bool:
        return self.conn.tls or self.conn.is_loopback

    async def cmd_capability(self, tag: str, args: Args) -> str:
        args.end()
        self.send(b"* CAPABILITY %b\r\n" % self.capabilities().encode())
        return "OK CAPABILITY completed"

    async def cmd_noop(self, tag: str, args: Args) -> str:
        args.end()
        await self.report_changes(force=True)
        return "OK NOOP completed"

    async def cmd_logout(self, tag: str, args: Args) -> str:
        args.end()
        self.send(b"* BYE Hexagone IMAP signing off\r\n")
        self.deselect()
        self.state = State.LOGOUT
        return "OK LOGOUT completed"

    async def cmd_id(self, tag: str, args: Args) -> str:
        token = args.next("ID parameters")
        if isinstance(token, list):
            if (
                len(token) % 2
                or len(token) > 2 * MAX_ID_PAIRS
                or not all(isinstance(t, Atom | Quoted | Literal) for t in token)
            ):
                raise CommandError("Invalid ID parameters")
        elif not (isinstance(token, Atom) and token.upper() == "NIL"):
            raise CommandError("Invalid ID parameters")
        args.end()
        self.send(b'* ID ("name" "Hexagone" "vendor" "Hexagone")\r\n')
        return "OK ID completed"

    async def cmd_enable(self, tag: str, args: Args) -> str:
        """ENABLE (RFC 5161): ``* ENABLED`` lists what this command turned on, nothing
        that was on already nor what the server does not know."""
        if not args.more():
            raise CommandError("Missing capability to enable")
        enabled = []
        known = {name.upper(): name for name in ENABLEABLE}
        while args.more():
            name = known.get(args.keyword("capability"))
            if name is None or name in self.enabled:
                continue
            for turned_on in (*ENABLEABLE[name], name):
                self._turn_on(turned_on)
            enabled.append(name)
        self.send(b"* ENABLED%b\r\n" % "".join(f" {n}" for n in enabled).encode())
        return "OK ENABLE completed"

    def _turn_on(self, name: str) -> None:
        if name == "CONDSTORE":
            enable_condstore(self)
        if name == "UTF8=ACCEPT":
            utf7.utf8_names.set(True)  # this session's task only
        self.enabled.add(name)

    async def cmd_compress(self, tag: str, args: Args) -> str | None:
        """COMPRESS DEFLATE (RFC 4978): the OK is the last thing sent in clear, and the
        bytes the client sent after the command are already compressed."""
        mechanism = args.keyword("compression mechanism")
        args.end()
        if mechanism != "DEFLATE":
            raise CommandError("Unknown compression mechanism")
        if self.conn.compressed:
            raise CommandError("DEFLATE is already active", status="NO", code="COMPRESSIONACTIVE")
        self.send(b"%b OK DEFLATE active\r\n" % tag.encode())
        await self.conn.flush()
        self.conn.start_deflate()
        return None

    async def cmd_starttls(self, tag: str, args: Args) -> str | None:
        args.end()
        if self.conn.tls:
            raise CommandError("TLS is already active")
        context = tls.server_context(self.settings)
        self.send(b"%b OK Begin TLS negotiation now\r\n" % tag.encode())
        try:
            await self.conn.start_tls(context)
        except (OSError, TimeoutError):  # a failed handshake (ssl.SSLError is an OSError): nothing more to say
            self.conn.abort()
            raise Closed from None
        return None  # answered before the handshake

    async def cmd_login(self, tag: str, args: Args) -> str:
        email = args.text("user name")
        password = args.text("password")
        args.end()
        return await self.sign_in(email, password)

    async def cmd_authenticate(self, tag: str, args: Args) -> str:
        mechanism = args.keyword("mechanism")
        initial = args.astring("initial response") if args.more() else None
        args.end()
        if mechanism != "PLAIN":
            raise CommandError("Unsupported mechanism", status="NO", code="CANNOT")
        if not self.clear_text_allowed:
            raise CommandError("Use STARTTLS before authenticating", status="NO", code="PRIVACYREQUIRED")
        if initial is None:
            self.send(b"+ \r\n")
            await self.conn.flush()
            initial = await self.conn.read_line()
        if initial.strip() == b"*":
            raise CommandError("Authentication cancelled")
        try:
            decoded = base64.b64decode(initial.strip() if initial.strip() != b"=" else b"", validate=True)
            authzid, authcid, password = decoded.decode("utf-8").split("\0")
        except (binascii.Error, UnicodeDecodeError, ValueError):
            raise CommandError("Invalid SASL PLAIN response") from None
        if authzid and authzid.lower() != authcid.lower():
            raise CommandError("Signing in as someone else is not allowed", status="NO", code="AUTHORIZATIONFAILED")
        return await self.sign_in(authcid, password)

    async def sign_in(self, email: str, password: str) -> str:
        if not self.clear_text_allowed:
            raise CommandError("Plain-text login is disabled; use STARTTLS first", status="NO", code="PRIVACYREQUIRED")
        try:
            user = await auth.authenticate(
                email, password, ip=self.conn.peer_ip or "unknown", channel="imap", settings=self.settings
            )
            account = await Account.sign_in(user)
        except RateLimited:
            raise CommandError("Too many failed attempts; try again later", status="NO", code="UNAVAILABLE") from None
        except Invalid:
            raise CommandError("Authentication failed", status="NO", code="AUTHENTICATIONFAILED") from None
        self.account = account
        self.state = State.AUTHENTICATED
        return f"OK [CAPABILITY {self.capabilities()}] Logged in"
