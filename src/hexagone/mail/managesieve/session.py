"""One ManageSieve session (RFC 5804): the greeting, then commands answered one at a
time, in two states: not signed in (CAPABILITY, STARTTLS, AUTHENTICATE, NOOP, LOGOUT)
and signed in (the script commands, UNAUTHENTICATE, and those valid in any state).

Signing in is IMAP's: AUTHENTICATE PLAIN goes through
:func:`hexagone.mail.service.auth.authenticate` (the account password, or an app
password for an account with MFA; failures audited and rate limited per account and
address across protocols), allowed only over TLS or on the loopback interface, as for
IMAP; elsewhere SASL lists no mechanism until STARTTLS. The scripts are the signed-in
user's own, kept, checked and bounded by the service face
:mod:`hexagone.mail.service.sieve` and nothing here: the script stored is the one the
rules page shows and delivery runs, with the same parser and the same quotas.

Every refusal is ``NO`` with a message (the service's, in English, and RFC 5804's
response code where there is one); after :data:`MAX_ERRORS` refusals in a row, an idle spell of :data:`IDLE_SECONDS`
(:data:`LOGIN_SECONDS` before signing in), input the session cannot read on from
(:class:`.wire.Fatal`) or a failure of ours, the session ends with ``BYE``.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import logging
import uuid
from collections.abc import AsyncIterator
from typing import ClassVar

from sqlalchemy.ext.asyncio import AsyncSession

from hexagone.core.config import Settings
from hexagone.core.db import org_session
from hexagone.core.exceptions import Invalid, RateLimited, ServiceError
from hexagone.core.failures import log_failure
from hexagone.identity.service import Person
from hexagone.mail import tls
from hexagone.mail.imap.connection import Closed, Connection, session_guard
from hexagone.mail.managesieve import wire
from hexagone.mail.managesieve.wire import Args, CommandError, Fatal, response, string
from hexagone.mail.service import auth, mailboxes, sieve, writers

log = logging.getLogger("hexagone.mail.managesieve")

IMPLEMENTATION = "Hexagone"
MAX_ERRORS = 20
IDLE_SECONDS = 30 * 60
LOGIN_SECONDS = 3 * 60
PRE_AUTH_LITERAL = 8 * 1024  # a SASL response; a script needs signing in
MIN_LITERAL = 1024 * 1024  # scripts up to this are read, so a big one gets NO (QUOTA/MAXSIZE)

ANY = frozenset({False, True})  # valid whether signed in or not
SIGNED_OUT = frozenset({False})
SIGNED_IN = frozenset({True})


class Session:
    COMMANDS: ClassVar[dict[str, tuple[str, frozenset[bool]]]] = {
        "CAPABILITY": ("cmd_capability", ANY),
        "NOOP": ("cmd_noop", ANY),
        "LOGOUT": ("cmd_logout", ANY),
        "STARTTLS": ("cmd_starttls", SIGNED_OUT),
        "AUTHENTICATE": ("cmd_authenticate", SIGNED_OUT),
        "UNAUTHENTICATE": ("cmd_unauthenticate", SIGNED_IN),
        "HAVESPACE": ("cmd_havespace", SIGNED_IN),
        "PUTSCRIPT": ("cmd_putscript", SIGNED_IN),
        "CHECKSCRIPT": ("cmd_checkscript", SIGNED_IN),
        "LISTSCRIPTS": ("cmd_listscripts", SIGNED_IN),
        "SETACTIVE": ("cmd_setactive", SIGNED_IN),
        "GETSCRIPT": ("cmd_getscript", SIGNED_IN),
        "DELETESCRIPT": ("cmd_deletescript", SIGNED_IN),
        "RENAMESCRIPT": ("cmd_renamescript", SIGNED_IN),
    }

    def __init__(self, conn: Connection, settings: Settings):
        self.conn = conn
        conn.framer = wire.framer()
        self.settings = settings
        self.user: Person | None = None
        self.mailbox_id: uuid.UUID | None = None
        self.errors = 0
        self.done = False

    @property
    def signed_in(self) -> bool:
        return self.mailbox_id is not None

    @property
    def clear_text_allowed(self) -> bool:
        return self.conn.tls or self.conn.is_loopback

    @property
    def literal_limit(self) -> int:
        return max(MIN_LITERAL, 2 * self.settings.mail_sieve_max_script_bytes) if self.signed_in else PRE_AUTH_LITERAL

    # --- the loop ----------------------------------------------------------------------

    async def send(self, data: bytes) -> None:
        self.conn.write(data)
        await self.conn.flush()

    async def run(self) -> None:
        async with session_guard(self.conn, log, "ManageSieve session"):
            await self.send(self.capabilities() + response("OK", f"{IMPLEMENTATION} ManageSieve ready"))
            while not self.done:
                try:
                    async with asyncio.timeout(IDLE_SECONDS if self.signed_in else LOGIN_SECONDS):
                        pieces = await wire.read_command(self.conn, self.literal_limit)
                    answer = await self.execute(pieces)
                except TimeoutError:
                    await self.send(response("BYE", "Disconnected for inactivity", "TRYLATER"))
                    break
                except Fatal as error:
                    await self.send(response("BYE", str(error)))
                    break
                if answer is not None:
                    await self.send(answer)
                if self.errors >= MAX_ERRORS:
                    await self.send(response("BYE", "Too many errors"))
                    break

    async def execute(self, pieces: list[bytes]) -> bytes | None:
        """The answer to one command (None when the handler answered itself)."""
        name = "?"
        try:
            words = wire.words(pieces)
            if not words or not isinstance(words[0], wire.Atom):
                raise CommandError("Expected a command name")
            name = words[0].upper()[:20]
            entry = self.COMMANDS.get(name)
            if entry is None:
                raise CommandError("Unknown command")
            handler, states = entry
            if self.signed_in not in states:
                raise CommandError("Already signed in" if self.signed_in else "Sign in first")
            answer: bytes | None = await getattr(self, handler)(Args(words[1:]))
        except CommandError as error:
            answer = error.response()
        except ServiceError as error:
            answer = response("NO", error.message, getattr(error, "code", None))
        except (Closed, Fatal):
            raise
        except Exception as error:
            log_failure(log, f"ManageSieve {name}", error)
            answer = response("NO", "Internal server error", "TRYLATER")
        self.errors = self.errors + 1 if answer is not None and answer.startswith(b"NO") else 0
        return answer

    # --- any state ---------------------------------------------------------------------

    def capabilities(self) -> bytes:
        """The capability lines (RFC 5804 1.7) for the session as it is now."""
        lines = [
            ("IMPLEMENTATION", IMPLEMENTATION),
            ("SASL", "PLAIN" if self.clear_text_allowed else ""),
            ("SIEVE", " ".join(sieve.ADVERTISED)),
            ("VERSION", "1.0"),
            ("UNAUTHENTICATE", None),
        ]
        if not self.conn.tls:
            lines.append(("STARTTLS", None))
        if self.user is not None:
            lines.append(("OWNER", self.user.email))
        return b"".join(
            string(name) + (b" " + string(value) if value is not None else b"") + b"\r\n" for name, value in lines
        )

    async def cmd_capability(self, args: Args) -> bytes:
        args.end()
        return self.capabilities() + response("OK", "Capability completed")

    async def cmd_noop(self, args: Args) -> bytes:
        tag = args.string("tag") if args.more() else None
        args.end()
        return response("OK", "Done", f"TAG {string(tag).decode()}" if tag is not None else None)

    async def cmd_logout(self, args: Args) -> bytes:
        args.end()
        self.done = True
        return response("OK", "Logout completed")

    # --- signing in and out ------------------------------------------------------------

    async def cmd_starttls(self, args: Args) -> None:
        args.end()
        if self.conn.tls:
            raise CommandError("TLS is already active")
        context = tls.server_context(self.settings)
        await self.send(response("OK", "Begin TLS negotiation now"))
        try:
            await self.conn.start_tls(context)
        except (OSError, TimeoutError):  # a failed handshake: nothing more to say
            self.conn.abort()
            raise Closed from None
        # RFC 5804 2.2: the capabilities again, now that TLS is on, then OK.
        await self.send(self.capabilities() + response("OK", "TLS negotiation successful"))
        return None

    async def cmd_authenticate(self, args: Args) -> bytes:
        mechanism = args.string("mechanism")
        initial = args.string("initial response") if args.more() else None
        args.end()
        if mechanism.upper() != "PLAIN":
            raise CommandError("Unsupported authentication mechanism")
        if not self.clear_text_allowed:
            raise CommandError("Use STARTTLS before authenticating", "ENCRYPT-NEEDED")
        if initial is None:
            await self.send(b'""\r\n')
            try:
                async with asyncio.timeout(LOGIN_SECONDS):
                    reply = Args(wire.words(await wire.read_command(self.conn, PRE_AUTH_LITERAL)))
            except TimeoutError:
                raise Fatal("Disconnected for inactivity") from None
            initial = reply.string("SASL response")
            reply.end()
        if initial == "*":
            raise CommandError("Authentication cancelled")
        try:
            authzid, authcid, password = base64.b64decode(initial, validate=True).decode("utf-8").split("\0")
        except (binascii.Error, UnicodeDecodeError, ValueError):
            raise CommandError("Invalid SASL PLAIN response") from None
        if authzid and authzid.lower() != authcid.lower():
            raise CommandError("Signing in as someone else is not allowed")
        await self.sign_in(authcid, password)
        return response("OK", "Logged in")

    async def sign_in(self, email: str, password: str) -> None:
        try:
            user = await auth.authenticate(
                email, password, ip=self.conn.peer_ip or "unknown", channel="managesieve", settings=self.settings
            )
            async with org_session(user.org_id) as db:
                await auth.session_principal(db, user)  # refuses an account disabled meanwhile
            async with writers.write_session(user.org_id) as db:
                mailbox_id = (await mailboxes.user_mailbox(db, user)).id  # made on first use, as by IMAP
                await db.commit()
        except RateLimited:
            raise CommandError("Too many failed attempts; try again later", "TRYLATER") from None
        except Invalid:
            raise CommandError("Authentication failed") from None
        self.user, self.mailbox_id = user, mailbox_id

    async def cmd_unauthenticate(self, args: Args) -> bytes:
        args.end()
        self.user = self.mailbox_id = None
        return response("OK", "Signed out")

    # --- scripts -----------------------------------------------------------------------

    @contextlib.asynccontextmanager
    async def own(self, write: bool = False) -> AsyncIterator[tuple[AsyncSession, sieve.Mailbox]]:
        """A session on the user's mailbox, found again (it may be gone since signing in);
        a change commits when the command's work is done."""
        assert self.user is not None and self.mailbox_id is not None
        opened = writers.write_session if write else org_session
        async with opened(self.user.org_id) as db:
            yield db, await sieve.mailbox(db, self.mailbox_id)
            if write:
                await db.commit()

    async def cmd_havespace(self, args: Args) -> bytes:
        name, size = args.string("script name"), args.number("script size")
        args.end()
        async with self.own() as (db, mailbox):
            await sieve.have_space(db, mailbox, name, size)
        return response("OK", "Putscript would succeed")

    async def cmd_putscript(self, args: Args) -> bytes:
        name, content = args.string("script name"), args.string("script")
        args.end()
        await sieve.check(content)  # parsed before the write turn is taken; put finds it cached
        async with self.own(write=True) as (db, mailbox):
            await sieve.put(db, mailbox, name, content)
        return response("OK", "Script stored")

    async def cmd_checkscript(self, args: Args) -> bytes:
        content = args.string("script")
        args.end()
        await sieve.check(content)
        return response("OK", "Script is valid")

    async def cmd_listscripts(self, args: Args) -> bytes:
        args.end()
        async with self.own() as (db, mailbox):
            found = await sieve.scripts(db, mailbox)
        lines = [string(s.name) + (b" ACTIVE" if s.active else b"") + b"\r\n" for s in found]
        return b"".join(lines) + response("OK", "Listscripts completed")

    async def cmd_setactive(self, args: Args) -> bytes:
        name = args.string("script name")
        args.end()
        async with self.own(write=True) as (db, mailbox):
            await sieve.activate(db, mailbox, name or None)
        return response("OK", "Active script set" if name else "No script active")

    async def cmd_getscript(self, args: Args) -> bytes:
        name = args.string("script name")
        args.end()
        async with self.own() as (db, mailbox):
            content = (await sieve.existing(db, mailbox, name)).content.encode("utf-8")
        return b"{%d}\r\n%b\r\n" % (len(content), content) + response("OK", "Getscript completed")

    async def cmd_deletescript(self, args: Args) -> bytes:
        name = args.string("script name")
        args.end()
        async with self.own(write=True) as (db, mailbox):
            await sieve.delete(db, mailbox, name)
        return response("OK", "Script deleted")

    async def cmd_renamescript(self, args: Args) -> bytes:
        old, new = args.string("script name"), args.string("new script name")
        args.end()
        async with self.own(write=True) as (db, mailbox):
            await sieve.rename(db, mailbox, old, new)
        return response("OK", "Script renamed")
