"""Mail rules at delivery: each recipient mailbox's active Sieve script decides where its
copy goes (:mod:`hexagone.mail.sieve` interprets, this file reads the scripts and the
folders and turns a verdict into delivery targets).

No rule may lose mail. A script that does not parse any more, fails on a message, or
files into a folder that does not exist delivers to INBOX (RFC 5228 2.10.6, implicit
keep); flags a folder would refuse are dropped, never the message.

Redirect loops: every copy a mailbox redirects carries ``Delivered-To:`` with the
mailbox's address (added by :mod:`hexagone.mail.service.forwarding`), as Postfix and
Dovecot do. A message that already names the mailbox there, or that has passed more
than :data:`MAX_HOPS` servers, is not redirected again but kept (RFC 5228 4.2 asks for
loop control). The vacation responder has its own protection (RFC 3834 and RFC 5230).
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hexagone.core.db import org_session
from hexagone.core.exceptions import Invalid
from hexagone.core.failures import log_failure
from hexagone.mail.models import INBOX, Folder, Mailbox, SieveScript
from hexagone.mail.service.store import check_flags
from hexagone.mail.sieve import Envelope, SieveError, Vacation, Verdict, parse, run
from hexagone.mail.transport import headers

log = logging.getLogger("hexagone.mail.sieve")

MAX_HOPS = 30  # Received fields: past this, a redirect is a loop (Postfix's hopcount_limit is 50)


@dataclass
class Plan:
    """Where one mailbox's copy goes: folders and the flags of each (empty when the
    script discarded it), the addresses to redirect it to, and the automatic reply."""

    folders: dict[uuid.UUID, list[str]] = field(default_factory=dict)
    redirects: list[str] = field(default_factory=list)
    vacation: Vacation | None = None
    address: str = ""  # the mailbox's own address (the redirect's sender, Delivered-To)


async def plans(
    org_id: uuid.UUID, recipients: dict[uuid.UUID, list[str]], raw: bytes, *, mail_from: str
) -> dict[uuid.UUID, Plan]:
    """The plan of each mailbox of ``recipients`` (mailbox -> the addresses that led to it)
    that has an active script; the others get INBOX as always. ``raw`` is the copy as
    stored (with its ``Return-Path:``)."""
    async with org_session(org_id) as db:
        query = select(SieveScript.mailbox_id, SieveScript.content, Mailbox.address).join(
            Mailbox, Mailbox.id == SieveScript.mailbox_id
        )
        scripts = (
            await db.execute(query.where(SieveScript.mailbox_id.in_(list(recipients)), SieveScript.active))
        ).all()
        if not scripts:
            return {}
        header = headers.parse(raw)
        hops = len(header.get_all("Received") or [])
        delivered_to = set(headers.addresses(header, "Delivered-To"))
        found: dict[uuid.UUID, Plan] = {}
        for mailbox_id, content, address in scripts:
            # off the event loop: a body test over a large message takes a while
            envelope = Envelope(mail_from, recipients[mailbox_id][0])
            verdict = await asyncio.to_thread(_verdict, content, raw, envelope, mailbox_id)
            if verdict.redirects and (address.lower() in delivered_to or hops > MAX_HOPS):
                log.info("redirect loop for mailbox %s: kept instead", mailbox_id)
                verdict.redirects = []
                verdict.folders = verdict.folders or Verdict.keep().folders
            found[mailbox_id] = Plan(
                await _targets(db, mailbox_id, verdict), verdict.redirects, verdict.vacation, address
            )
        return found


def _verdict(content: str, raw: bytes, envelope: Envelope, mailbox_id: uuid.UUID) -> Verdict:
    try:
        return run(parse(content), raw, envelope)
    except SieveError as error:
        log.warning("Sieve script of mailbox %s failed, message kept in INBOX: %s", mailbox_id, error)
    except Exception as error:  # a fault of ours must not lose the message either
        log_failure(log, f"Sieve script of mailbox {mailbox_id} (message kept in INBOX)", error)
    return Verdict.keep()


async def _targets(db: AsyncSession, mailbox_id: uuid.UUID, verdict: Verdict) -> dict[uuid.UUID, list[str]]:
    """Folder ids for the verdict's folder names (INBOX for one that does not exist),
    with the flags the store accepts."""
    names = set(verdict.folders) | {INBOX}
    query = select(Folder.name, Folder.id).where(Folder.mailbox_id == mailbox_id, Folder.name.in_(names))
    ids = dict((await db.execute(query)).all())
    targets: dict[uuid.UUID, list[str]] = {}
    for name, flags in verdict.folders.items():
        folder_id = ids.get(name) or ids[INBOX]
        targets[folder_id] = list(dict.fromkeys([*targets.get(folder_id, []), *_accepted(flags)]))
    return targets


def _accepted(flags: list[str]) -> list[str]:
    out = []
    for flag in flags:
        try:
            out += check_flags([flag])
        except Invalid:
            continue
    return out
