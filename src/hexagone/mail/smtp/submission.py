"""The submission listener (``HEXAGONE_SUBMISSION_PORT``, RFC 6409): mail clients
sending on behalf of a signed-in user.

Nothing is accepted before AUTH (``530 5.7.0``). AUTH PLAIN and LOGIN carry the password
in clear, so they are offered only after STARTTLS, or on loopback where the password
never crosses a network. Sign-in goes through :func:`..service.auth.authenticate`: the
same audit entries and rate limits as the web login, app passwords for accounts with
MFA; a session that fails three times is closed.

The envelope sender must be an address the user may send as (their own, an alias, a
shared mailbox with send-as), else ``550 5.7.1`` at MAIL; ``From:`` is checked the same
way at the end of DATA by :func:`..service.outbound.submit`, which signs and sends. Both
ask the core policy (mail's rule, ``send_as``) for the principal loaded at AUTH.
"""

from __future__ import annotations

import base64
import binascii
import logging
import ssl
import uuid
from dataclasses import dataclass

from aiosmtpd.smtp import SMTP, AuthResult, Envelope, Session

from hexagone.core.auth import Principal
from hexagone.core.config import Settings, get_settings
from hexagone.core.db import org_session
from hexagone.core.exceptions import Forbidden, Invalid, RateLimited
from hexagone.identity.service import Person
from hexagone.mail.service import addresses, auth, delivery, outbound
from hexagone.mail.smtp.limits import ClientLimits
from hexagone.mail.smtp.protocol import (
    Handler,
    Listener,
    Protocol,
    address_problem,
    peer_ip,
    received,
    take_content,
)
from hexagone.mail.transport import headers

log = logging.getLogger("hexagone.mail.smtp")

MAX_AUTH_FAILURES = 3


@dataclass(frozen=True, slots=True)
class Sender:
    """Who signed in (aiosmtpd's ``session.auth_data``): the person, and the principal the
    core policy judges their sender addresses for."""

    user: Person
    principal: Principal


class SubmissionHandler(Handler):
    def __init__(self, settings: Settings):
        self.settings = settings
        self.failed_logins = 0  # not auth_…: aiosmtpd takes every auth_* attribute for a mechanism

    # --- AUTH (aiosmtpd calls ``auth_<MECHANISM>(server, args)`` of the handler) ---------

    # A challenge answered with ``*`` or bad base64 comes back as aiosmtpd's MISSING,
    # already answered with 501; an initial response that is not base64 is answered here.

    async def auth_PLAIN(self, server: SMTP, args: list[str]) -> AuthResult:
        response = await server.challenge_auth("") if len(args) == 1 else _b64(args[1])
        if response is None or (isinstance(response, bytes) and response.count(b"\x00") != 2):
            return await _malformed(server)
        if not isinstance(response, bytes):
            return AuthResult(success=False, handled=True)
        _authzid, login, password = response.split(b"\x00")
        return await self._sign_in(server, login, password)

    async def auth_LOGIN(self, server: SMTP, args: list[str]) -> AuthResult:
        login = await server.challenge_auth(server.AuthLoginUsernameChallenge) if len(args) == 1 else _b64(args[1])
        if login is None:
            return await _malformed(server)
        if not isinstance(login, bytes):
            return AuthResult(success=False, handled=True)
        password = await server.challenge_auth(server.AuthLoginPasswordChallenge)
        if not isinstance(password, bytes):
            return AuthResult(success=False, handled=True)
        return await self._sign_in(server, login, password)

    async def _sign_in(self, server: SMTP, login: bytes, password: bytes) -> AuthResult:
        assert server.session is not None
        try:
            user = await auth.authenticate(
                login.decode("utf-8"), password.decode("utf-8"), ip=peer_ip(server.session), channel="smtp"
            )
            async with org_session(user.org_id) as db:
                principal = await auth.session_principal(db, user)
        except RateLimited:
            return await self._failed(server, "454 4.7.0 Too many failed attempts, try again later")
        except (Invalid, UnicodeDecodeError):
            return await self._failed(server, "535 5.7.8 Authentication credentials invalid")
        log.info("submission: %s signed in from %s", user.email, peer_ip(server.session))
        return AuthResult(success=True, auth_data=Sender(user, principal))

    async def _failed(self, server: SMTP, reply: str) -> AuthResult:
        self.failed_logins += 1
        if self.failed_logins < MAX_AUTH_FAILURES:
            return AuthResult(success=False, handled=False, message=reply)
        await server.push(reply)
        await server.push("421 4.7.0 Too many authentication failures, closing the connection")
        if server.transport is not None:
            server.transport.close()
        return AuthResult(success=False, handled=True)

    # --- the transaction ---------------------------------------------------------------

    async def handle_MAIL(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, mail_options: list[str]
    ) -> str:
        user, principal = _sender(session)
        if address == "<>":
            return "550 5.7.1 A null sender is not allowed here"
        if problem := address_problem(envelope, address):
            return problem
        async with org_session(user.org_id, write=True) as db:  # the user's mailbox may be created on first use
            allowed = await addresses.may_send_as(db, user, address, principal)
            await db.commit()
        if not allowed:
            return f"550 5.7.1 <{address}>: Sender address rejected: not an address of {user.email}"
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 2.1.0 OK"

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        if problem := address_problem(envelope, address):
            return problem
        if len(envelope.rcpt_tos) >= self.settings.mail_max_recipients:
            return "452 4.5.3 Too many recipients"
        if await delivery.resolve(address) is None and await delivery.is_local_domain(delivery.domain_of(address)):
            return f"550 5.1.1 <{address}>: Recipient address rejected: no such user here"
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        user, principal = _sender(session)
        queue_id = uuid.uuid4().hex[:12].upper()
        trace = received(
            session,
            hostname=self.settings.resolved_mail_hostname,
            recipient=None,
            queue_id=queue_id,
            authenticated=True,
            utf8=envelope.smtp_utf8,
            client=False,
        )
        raw = headers.prepend(take_content(envelope), trace)
        try:
            await outbound.submit(
                principal, user, raw, mail_from=envelope.mail_from or "", recipients=list(envelope.rcpt_tos)
            )
        except Forbidden as exc:
            return f"550 5.7.1 {exc.message}"
        except outbound.UnknownRecipients as exc:
            return f"550 5.1.1 {exc.message}"
        except Invalid as exc:
            return f"554 5.6.0 {exc.message}"
        log.info(
            "submission %s from %s <%s> to %s accepted", queue_id, user.email, envelope.mail_from, envelope.rcpt_tos
        )
        return f"250 2.0.0 OK: queued as {queue_id}"


def _sender(session: Session) -> tuple[Person, Principal]:
    sender = session.auth_data
    assert isinstance(sender, Sender), "auth_required: aiosmtpd lets no MAIL through before AUTH"
    return sender.user, sender.principal


def _b64(value: str) -> bytes | None:
    try:
        return base64.b64decode(value.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError):
        return None


async def _malformed(server: SMTP) -> AuthResult:
    await server.push("501 5.5.2 Cannot decode the AUTH response")
    return AuthResult(success=False, handled=True)


def _protocol(settings: Settings, limits: ClientLimits, context: ssl.SSLContext) -> Protocol:
    return Protocol(
        SubmissionHandler(settings), settings=settings, limits=limits, tls_context=context, auth_required=True
    )


async def serve() -> None:
    """The submission listener, until cancelled (a ``Module.servers`` entry)."""
    await Listener("Submission", get_settings().submission_port, _protocol).serve()
