"""Sending what users write: the one path for SMTP submission and the webmail.

:func:`submit` checks who the message claims to be from (send-as), completes what a
submission server adds (RFC 6409 section 8), signs it with the ``From:`` domain's DKIM
key, then hands it to :func:`hexagone.mail.service.relay.send`, which delivers local
recipients (:mod:`hexagone.mail.service.delivery`) and queues remote ones.
"""

from __future__ import annotations

import asyncio
import email.header
import email.utils

from hexagone.core.auth import Principal
from hexagone.core.config import get_settings
from hexagone.core.db import org_session, utcnow
from hexagone.core.exceptions import Forbidden, Invalid
from hexagone.core.i18n import _
from hexagone.core.pubsub import events
from hexagone.identity.service import Person
from hexagone.mail.service import addresses, dkim
from hexagone.mail.service.delivery import domain_of, route
from hexagone.mail.service.relay import send
from hexagone.mail.transport import headers

# The domain event of a message a user sent (webmail, API or SMTP submission), once it is
# durable: ``{"user_id": str, "recipients": [{"address": str, "name": str}]}``, ``name``
# as the To: or Cc: field gave it ('' for Bcc). Other modules react to it through their
# descriptor's ``event_handlers`` (the calendar module collects the addresses).
SUBMITTED = "mail.submitted"


class UnknownRecipients(Invalid):
    """Some recipients are addresses of our domains that reach nobody."""

    def __init__(self, unknown: list[str]):
        super().__init__(_("No such recipient here: %(addresses)s", addresses=", ".join(unknown)))
        self.unknown = unknown


def _prepared(raw: bytes, from_domain: str) -> bytes:
    """What a submission server adds or removes (RFC 6409 section 8): a ``Date:`` and a
    ``Message-ID:`` when the client wrote none; never the ``Bcc:`` list."""
    parsed = headers.parse(raw)
    added = []
    if parsed.get("Date") is None:
        added.append(f"Date: {email.utils.format_datetime(utcnow())}")
    if parsed.get("Message-ID") is None:
        added.append(f"Message-ID: {email.utils.make_msgid(domain=from_domain)}")
    cleaned = headers.remove(raw, lambda name, _: name in ("bcc", "return-path"))
    if not added:
        return cleaned
    header, rest = headers.split(cleaned)
    return header + "".join(f"{f}\r\n" for f in added).encode() + rest


def check_sender(sendable: list[str], raw: bytes, mail_from: str) -> str:
    """Refuse a message whose envelope sender, ``From:`` or ``Sender:`` is not among the
    addresses its author may send as (``sendable``); returns the ``From:`` domain (the
    one that signs)."""
    parsed = headers.parse(raw)
    authors = headers.addresses(parsed, "From")
    if not authors:
        raise Invalid(_("The message has no From: address."))
    claimed = [mail_from, *authors, *headers.addresses(parsed, "Sender")]
    refused = [a for a in claimed if addresses.base_address(a) not in set(sendable)]
    if refused:
        raise Forbidden(_("You may not send as %(addresses)s.", addresses=", ".join(dict.fromkeys(refused))))
    return domain_of(authors[0])


async def submit(
    principal: Principal,
    user: Person,
    raw: bytes,
    *,
    mail_from: str,
    recipients: list[str],
    sendable: list[str] | None = None,
) -> None:
    """Send a message ``user`` wrote, signed in as ``principal`` (the core policy judges
    who they may send as: ``sendable``, when the caller has just read it with
    :func:`addresses.sending_rights`): checks who it claims to be from, signs it with the
    sender's domain's DKIM key, delivers local recipients and queues remote ones.
    Returns once every part is durable, then announces :data:`SUBMITTED`. Raises Forbidden (send-as refused), Invalid
    (no recipient, too large) or UnknownRecipients (an address of ours reaching nobody)."""
    settings = get_settings()
    recipients = list(dict.fromkeys(addresses.normalise(r) for r in recipients if r.strip()))
    if not recipients:
        raise Invalid(_("The message has no recipient."))
    if len(recipients) > settings.mail_max_recipients:
        raise Invalid(_("At most %(count)s recipients per message.", count=settings.mail_max_recipients))
    if len(raw) > settings.mail_max_message_bytes:
        raise Invalid(_("The message is too large."))
    if sendable is None:
        _accesses, sendable = await addresses.sending_rights(principal, user)
    from_domain = check_sender(sendable, raw, mail_from)
    local, remote, unknown = await route(recipients)
    if unknown:
        raise UnknownRecipients(unknown)
    raw = _prepared(raw, from_domain)
    key = await dkim.key_for(user.org_id, from_domain)
    signed = await asyncio.to_thread(dkim.sign, raw, key) + raw
    await send(signed, mail_from=addresses.normalise(mail_from), local=local, remote=remote, org_id=user.org_id)
    async with org_session(user.org_id) as db:
        events.on_commit(db, SUBMITTED, {"user_id": user.id, "recipients": _named(raw, recipients)})
        await db.commit()


def _named(raw: bytes, recipients: list[str]) -> list[dict[str, str]]:
    """Each recipient with the name the author's ``To:`` or ``Cc:`` gave it (decoded), or
    '' (Bcc, or a bare address): what :data:`SUBMITTED` tells."""
    parsed = headers.parse(raw)
    fields = [str(v) for name in ("To", "Cc") for v in parsed.get_all(name, [])]
    names: dict[str, str] = {}
    for display, address in email.utils.getaddresses(fields):
        try:
            decoded = str(email.header.make_header(email.header.decode_header(display)))
        except (ValueError, LookupError, UnicodeError):  # an undecodable encoded word: keep it as written
            decoded = display
        names.setdefault(addresses.normalise(address), " ".join(decoded.split())[:200])
    return [{"address": r, "name": names.get(r, "")} for r in recipients]
