"""The vacation auto-reply: "I am away until…", sent on a mailbox's behalf (RFC 3834),
when its Sieve script says ``vacation`` (RFC 5230; the settings page writes one,
:mod:`hexagone.mail.service.sieve`).

An auto-reply must not make things worse, so the rules of RFC 3834 section 2 apply:
no reply to a bounce (null sender) or a daemon, to mail that is itself automatic
(``Auto-Submitted:`` other than ``no``, ``Precedence: bulk/list/junk``), to mailing
lists (``List-Id:`` and friends), to mail where the mailbox is not among the ``To:``
or ``Cc:`` addresses (a Bcc or a list it is on), to oneself; and at most one reply per
sender per the action's ``:days``, remembered in ``VacationReply``. The reply has
``Auto-Submitted: auto-replied`` and a null envelope sender (section 3.3), so it is
never answered or bounced in turn.

The responder is not called by delivery: it subscribes to the domain event
:data:`hexagone.mail.service.delivery.DELIVERED_AUTO_REPLY` (a copy whose
mailbox's script asked for a reply, with the action's arguments) through mail's module
descriptor, so each such copy gets a durable job (:data:`JOB`) that decides and sends, and a slow or failing reply never
delays a ``250``.
"""

from __future__ import annotations

import asyncio
import email.errors
import email.header
import email.message
import email.utils
import uuid
from datetime import timedelta
from email.header import Header

from sqlalchemy import select

from hexagone.core.db import org_session, utcnow
from hexagone.core.i18n import N_
from hexagone.core.pubsub import events
from hexagone.identity.service import org_info
from hexagone.mail.models import Address, Mailbox, Message, VacationReply
from hexagone.mail.service import dkim, relay
from hexagone.mail.sieve import Vacation
from hexagone.mail.transport import headers
from hexagone.mail.transport.dsn import translated

DEFAULT_SUBJECT = N_("Automatic reply: %(subject)s")
DAEMONS = ("mailer-daemon", "postmaster", "listserv", "majordomo", "noreply", "no-reply")
LIST_FIELDS = ("list-id", "list-unsubscribe", "list-post", "list-help", "list-owner", "list-archive")


def automatic(mail_from: str, message: email.message.Message) -> bool:
    """Whether the message (its header fields) must get no auto-reply whoever receives it."""
    local = mail_from.rpartition("@")[0].lower()
    if not mail_from or local in DAEMONS or local.startswith("owner-") or local.endswith("-request"):
        return True
    auto = str(message.get("Auto-Submitted", "no")).strip().lower()
    precedence = str(message.get("Precedence", "")).strip().lower()
    return (
        auto != "no"
        or precedence in ("bulk", "list", "junk")
        or any(message.get(name) is not None for name in LIST_FIELDS)
    )


def _text(value: object) -> str:
    try:
        return str(email.header.make_header(email.header.decode_header(str(value))))[:300]
    except (LookupError, UnicodeError, ValueError, email.errors.HeaderParseError):
        return str(value)[:300]


def compose(
    mailbox: Mailbox, vacation: Vacation, *, sender: str, to: str, subject: str, message_id: str, language: str
) -> bytes:
    """The reply itself: the script's text (or MIME entity, ``:mime``), threaded under the
    message it answers, from ``sender`` (one of the mailbox's addresses)."""
    reply_subject = vacation.subject or translated(language, DEFAULT_SUBJECT, subject=subject)
    lines = [
        f"From: {email.utils.formataddr((mailbox.display_name, sender))}",
        f"To: <{to}>",
        f"Subject: {Header(reply_subject, 'utf-8').encode()}",
        f"Date: {email.utils.format_datetime(utcnow())}",
        f"Message-ID: {email.utils.make_msgid(domain=mailbox.address.rpartition('@')[2])}",
        "Auto-Submitted: auto-replied",
        "MIME-Version: 1.0",
    ]
    if message_id:
        lines += [f"In-Reply-To: {message_id}", f"References: {message_id}"]
    text = vacation.reason.replace("\r\n", "\n").replace("\n", "\r\n")
    if not vacation.mime:  # RFC 5230 4.6: else the reason is a MIME part, its header fields first
        lines += ["Content-Type: text/plain; charset=utf-8", "Content-Transfer-Encoding: 8bit", ""]
    return ("\r\n".join(lines) + "\r\n" + text.rstrip("\r\n") + "\r\n").encode("utf-8")


async def on_delivered(event: dict[str, object]) -> None:
    """The handler of :data:`~hexagone.mail.service.delivery.DELIVERED_AUTO_REPLY`: a copy
    whose mailbox's script said ``vacation``; reply if the message may be answered at all
    (cheap header checks, in a read transaction)."""
    org_id, mailbox_id = uuid.UUID(str(event["org_id"])), uuid.UUID(str(event["mailbox_id"]))
    mail_from = str(event["mail_from"])
    arguments = event["vacation"]
    assert isinstance(arguments, dict)
    if event["message_id"] is None:  # the script discarded it: its header came with the event
        header = headers.parse(str(event["header"]).encode("latin-1"))
    else:
        async with org_session(org_id) as db:
            message = await db.get(Message, uuid.UUID(str(event["message_id"])))
            if message is None:  # deleted before the handler ran: nothing left to answer
                return
            header = headers.parse(message.header)
    if automatic(mail_from, header):
        return
    await reply(org_id, mailbox_id, Vacation(**arguments), sender=mail_from.lower(), message=header)


JOB = events.handler_job_kind(on_delivered)


async def reply(
    org_id: uuid.UUID, mailbox_id: uuid.UUID, vacation: Vacation, *, sender: str, message: email.message.Message
) -> None:
    """Send one auto-reply if the rules allow it, remembering the sender first (a reply
    lost to a crash is better than two). ``:addresses`` add to the mailbox's own ones for
    "was it sent to me" (RFC 5230 4.5); ``:from`` is used when it is one of its own."""
    addressed = headers.addresses(message, "To") + headers.addresses(message, "Cc")
    async with org_session(org_id, write=True) as db:
        mailbox = await db.get(Mailbox, mailbox_id)
        if mailbox is None:
            return
        own = {
            mailbox.address,
            *(await db.execute(select(Address.address).where(Address.mailbox_id == mailbox.id))).scalars(),
        }
        if sender in own or not own.union(a.lower() for a in vacation.addresses).intersection(addressed):
            return
        last = (
            await db.execute(
                select(VacationReply).where(VacationReply.mailbox_id == mailbox.id, VacationReply.sender == sender)
            )
        ).scalar_one_or_none()
        if last is not None and last.replied_at > utcnow() - timedelta(days=vacation.days):
            return
        if last is None:
            db.add(VacationReply(org_id=mailbox.org_id, mailbox_id=mailbox.id, sender=sender, replied_at=utcnow()))
        else:
            last.replied_at = utcnow()
        org = await org_info(db, mailbox.org_id)
        chosen = (email.utils.parseaddr(vacation.from_ or "")[1] or mailbox.address).lower()
        raw = compose(
            mailbox,
            vacation,
            sender=chosen if chosen in own else mailbox.address,
            to=sender,
            subject=_text(message.get("Subject", "")),
            message_id=str(message.get("Message-ID", "")).strip(),
            language=org.default_locale if org else "fr",
        )
        key = await dkim.signing_key(db, mailbox.org_id, mailbox.address.rpartition("@")[2])
        await db.commit()
    signed = await asyncio.to_thread(dkim.sign, raw, key) + raw
    await relay.send_anywhere(signed, mail_from="", recipients=[sender], org_id=org_id)
