"""A few messages in the demo organisation's mailboxes, so that ``make run`` opens on a
living inbox: a conversation between colleagues, an attachment, mail from outside."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from sqlalchemy import func, select

from hexagone.core.db import org_session
from hexagone.identity.service import Person, members
from hexagone.mail.models import Message
from hexagone.mail.service import mailboxes, store


def _message(
    sender: str,
    to: str,
    subject: str,
    body: str,
    when: datetime,
    *,
    reply_to: EmailMessage | None = None,
    attachment: tuple[str, bytes] | None = None,
) -> EmailMessage:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = sender, to, subject
    msg["Date"] = format_datetime(when)
    msg["Message-ID"] = make_msgid(domain=sender.rsplit("@", 1)[-1].rstrip(">"))
    if reply_to is not None:
        msg["In-Reply-To"] = msg["References"] = reply_to["Message-ID"]
    msg.set_content(body)
    if attachment is not None:
        msg.add_attachment(attachment[1], maintype="text", subtype="plain", filename=attachment[0])
    return msg


def _conversation(people: dict[str, Person], now: datetime) -> list[tuple[EmailMessage, str, str]]:
    """(message, sender address, recipient address) in the order they were sent."""
    alice, bob, carol = (people[k] for k in ("alice", "bob", "carol"))
    who = {u.email: f"{u.display_name} <{u.email}>" for u in (alice, bob, carol)}
    kickoff = _message(
        who[bob.email],
        who[alice.email],
        "Réunion de lancement — Projet Alpha",
        "Bonjour Alice,\n\nJe propose jeudi à 10 h pour lancer le projet Alpha.\nPeux-tu confirmer ?\n\nBob\n",
        now - timedelta(days=1, hours=3),
    )
    answer = _message(
        who[alice.email],
        who[bob.email],
        "Re: Réunion de lancement — Projet Alpha",
        "Jeudi 10 h me convient. J'invite Carol.\n\nAlice\n",
        now - timedelta(days=1),
        reply_to=kickoff,
    )
    agenda = _message(
        who[carol.email],
        who[alice.email],
        "Ordre du jour",
        "Bonjour,\n\nVoici l'ordre du jour en pièce jointe.\n\nCarol\n",
        now - timedelta(hours=5),
        attachment=("ordre-du-jour.txt", b"1. Objectifs\n2. Calendrier\n3. Budget\n"),
    )
    outside = _message(
        "Lettre d'information <lettre@exemple.fr>",
        who[alice.email],
        "Les nouveautés du mois",
        "Bienvenue dans Hexagone : votre messagerie, vos agendas et vos fichiers au même endroit.\n",
        now - timedelta(hours=2),
    )
    return [
        (kickoff, bob.email, alice.email),
        (answer, alice.email, bob.email),
        (agenda, carol.email, alice.email),
        (outside, "", alice.email),
    ]


async def seed(org_id: uuid.UUID) -> None:
    """Fill the demo mailboxes once (nothing happens if alice's inbox has mail)."""
    async with org_session(org_id) as db:
        users = await members(db)
        people = {u.email.split("@")[0]: u for u in users}
        if not {"alice", "bob", "carol"} <= people.keys():
            return
        boxes = {u.email: await mailboxes.user_mailbox(db, u) for u in people.values()}
        if (
            await db.execute(
                select(func.count()).select_from(Message).where(Message.mailbox_id == boxes[people["alice"].email].id)
            )
        ).scalar():
            await db.commit()
            return
        now = datetime.now(UTC)
        for msg, sender, recipient in _conversation(people, now):
            raw = msg.as_bytes(policy=msg.policy.clone(linesep="\r\n"))
            when = datetime.fromisoformat(msg["Date"].datetime.isoformat())
            inbox = await mailboxes.folder_by_name(db, boxes[recipient].id, mailboxes.INBOX)
            assert inbox is not None
            await store.append(db, inbox, raw, internal_date=when)
            if sender:
                sent = await mailboxes.folder_by_special_use(db, boxes[sender].id, "\\Sent")
                assert sent is not None
                await store.append(db, sent, raw, flags=["\\Seen"], internal_date=when)
        await db.commit()
