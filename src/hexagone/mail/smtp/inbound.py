"""The inbound listener (``HEXAGONE_SMTP_PORT``): mail from the Internet to the
organisations' domains.

It is no relay: a recipient outside our domains is refused at RCPT (``554 5.7.1``), an
address of ours that reaches nobody too (``550 5.1.1``), and a mailbox already full gets
``452 4.2.2`` so the sender tries later. At the end of DATA the message gets its trace
(``Received:``) and verdict (``Authentication-Results:``, :mod:`..service.authcheck`), then
is stored through :func:`..service.relay.send`; ``250`` is answered only once the
blob is fsync'd and the rows committed (or the message durably queued), so a crash
loses nothing that was acknowledged.
"""

from __future__ import annotations

import logging
import ssl
import uuid
from dataclasses import dataclass, field

from aiosmtpd.smtp import SMTP, Envelope, Session

from hexagone.core.config import Settings, get_settings
from hexagone.mail.service import authcheck, delivery, relay
from hexagone.mail.service.addresses import Recipient
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
from hexagone.mail.transport import dns, headers

log = logging.getLogger("hexagone.mail.smtp")


@dataclass
class Accepted:
    """The recipients accepted so far in a transaction, with where they lead."""

    recipients: dict[str, Recipient] = field(default_factory=dict)


def _accepted(envelope: Envelope) -> Accepted:
    if not hasattr(envelope, "accepted"):
        envelope.accepted = Accepted()  # type: ignore[attr-defined]  # our own field on aiosmtpd's Envelope
    return envelope.accepted  # type: ignore[attr-defined]  # set just above


class InboundHandler(Handler):
    def __init__(self, settings: Settings):
        self.settings = settings

    async def handle_EHLO(
        self, server: SMTP, session: Session, envelope: Envelope, hostname: str, responses: list[str]
    ) -> list[str]:
        offered = await super().handle_EHLO(server, session, envelope, hostname, responses)
        return [line for line in offered if not line.startswith("250-AUTH")]

    async def handle_AUTH(self, server: SMTP, session: Session, envelope: Envelope, args: list[str]) -> str:
        return "502 5.5.1 No AUTH here: mail clients send through the submission port"

    async def handle_MAIL(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, mail_options: list[str]
    ) -> str:
        if address != "<>" and (problem := address_problem(envelope, address)):
            return problem
        envelope.mail_from = address  # "<>" for a bounce: aiosmtpd needs a true value to allow RCPT
        envelope.mail_options.extend(mail_options)
        return "250 2.1.0 OK"

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        if problem := address_problem(envelope, address):
            return problem
        accepted = _accepted(envelope)
        if len(envelope.rcpt_tos) >= self.settings.mail_max_recipients:
            return "452 4.5.3 Too many recipients"
        recipient, full = await delivery.resolve_with_room(address)
        if recipient is None:
            if await delivery.is_local_domain(delivery.domain_of(address)):
                return f"550 5.1.1 <{address}>: Recipient address rejected: no such user here"
            return f"554 5.7.1 <{address}>: Relay access denied"
        if full:
            return f"452 4.2.2 <{address}>: Mailbox full, try again later"
        accepted.recipients[address] = recipient
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        accepted = _accepted(envelope)
        queue_id = uuid.uuid4().hex[:12].upper()
        hostname = self.settings.resolved_mail_hostname
        mail_from = "" if envelope.mail_from == "<>" else envelope.mail_from or ""
        verdict, stamped = await self._stamped(session, envelope, take_content(envelope), queue_id, mail_from)
        try:
            await relay.send(
                stamped,
                mail_from=mail_from,
                local=dict(accepted.recipients),
                remote=[],
                org_id=None,
                refuse_if_nothing_delivered=True,
            )
        except relay.NothingDelivered:
            return "552 5.2.2 Mailbox full"
        log.info(
            "inbound %s from <%s> to %s stored (%s)",
            queue_id,
            mail_from,
            envelope.rcpt_tos,
            verdict.header(hostname).replace("\r\n\t", " "),
        )
        return f"250 2.0.0 OK: queued as {queue_id}"

    async def _stamped(
        self, session: Session, envelope: Envelope, raw: bytes, queue_id: str, mail_from: str
    ) -> tuple[authcheck.Verdict, bytes]:
        """The verdict on ``raw``, and the message to store: ``raw`` with its trace and
        verdict fields on top. ``raw`` is not needed after this (the caller holds only the
        stamped copy: a large message is held once, not twice, while it is delivered)."""
        hostname = self.settings.resolved_mail_hostname
        verdict = await authcheck.check(raw, ip=peer_ip(session), helo=session.host_name or "", mail_from=mail_from)
        # RFC 8601 section 5: results claiming to be ours that we did not write are forged;
        # a Return-Path is the final delivery's to write (RFC 5321 4.4), here with the rest.
        cleaned = headers.remove(
            raw,
            lambda name, value: (
                name == "return-path" or (name == "authentication-results" and _authserv_id(value) == hostname.lower())
            ),
        )
        only = envelope.rcpt_tos[0] if len(envelope.rcpt_tos) == 1 else None
        trace = received(
            session, hostname=hostname, recipient=only, queue_id=queue_id, authenticated=False, utf8=envelope.smtp_utf8
        )
        return verdict, headers.prepend(cleaned, delivery.return_path(mail_from), trace, verdict.header(hostname))


def _authserv_id(field: bytes) -> str:
    value = field.split(b":", 1)[1] if b":" in field else b""
    return value.split(b";", 1)[0].strip().decode("ascii", "replace").lower()


def _protocol(settings: Settings, limits: ClientLimits, context: ssl.SSLContext) -> Protocol:
    return Protocol(InboundHandler(settings), settings=settings, limits=limits, tls_context=context)


async def serve() -> None:
    """The inbound listener, until cancelled (a ``Module.servers`` entry)."""
    dns.install()
    await Listener("SMTP", get_settings().smtp_port, _protocol).serve()
