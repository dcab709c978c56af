"""A mail workplace the browser tests look at: Camille of the Mairie de Villeneuve with a
conversation, an attachment, a newsletter with an inline image and a remote one, a
register too long to show in full, a colleague, a subfolder with a mail rule filing into
it and a shared mailbox —
something on every page of the webmail.
Names and dates are fixed so that the screenshot does not change from run to run."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime

from hexagone.core.db import org_session
from hexagone.identity.models import User
from hexagone.mail.models import Folder
from hexagone.mail.service import mailboxes, sieve, store
from hexagone.mail.sieve import generate
from tests.factories import TestOrg, TestUser, make_org, make_user

START = datetime(2026, 1, 12, 8, 15, tzinfo=UTC)
VOIRIE_RULE = generate.Rule(
    "Travaux de voirie",
    (generate.Condition("subject", "contains", "voirie"), generate.Condition("from", "contains", "@services")),
    (generate.Action("fileinto", "Projets/Voirie"), generate.Action("flag")),
    match_all=False,
)
# A 16×16 blue square: the newsletter's logo, shown from the message itself (cid:).
LOGO = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAABAAAAAQCAIAAACQkWg2AAAAFElEQVR4nGNkaPjPQApgIkn1qIahAgCpUgHfmvdJpgAAAABJRU5ErkJggg=="
)


@dataclass
class MailWorkplace:
    org: TestOrg
    camille: TestUser
    hugo: TestUser
    subjects: list[str]


def _message(
    sender: str, to: str, subject: str, body: str, moment: datetime, *, msgid: str, reply_to: str | None = None
) -> EmailMessage:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = sender, to, subject
    message["Date"] = format_datetime(moment)
    message["Message-ID"] = msgid
    if reply_to:
        message["In-Reply-To"] = message["References"] = reply_to
    message.set_content(body)
    return message


def _mail(camille: str, hugo: str, domain: str) -> list[tuple[EmailMessage, str, tuple[str, ...]]]:
    """(message, folder, flags), oldest first."""
    subject = "Réunion de lancement du budget 2026"
    kickoff = _message(
        f"Hugo Bernard <{hugo}>",
        f"Camille Laurent <{camille}>",
        subject,
        "Bonjour Camille,\n\nJe propose jeudi à 10 h en salle du conseil.\n\nHugo\n",
        START,
        msgid=f"<kickoff@{domain}>",
    )
    answer = _message(
        f"Camille Laurent <{camille}>",
        f"Hugo Bernard <{hugo}>",
        f"Re: {subject}",
        "Jeudi 10 h me convient.\n\nCamille\n",
        START + timedelta(hours=2),
        msgid=f"<answer@{domain}>",
        reply_to=f"<kickoff@{domain}>",
    )
    again = _message(
        f"Hugo Bernard <{hugo}>",
        f"Camille Laurent <{camille}>",
        f"Re: {subject}",
        "Parfait, j'apporte les chiffres.\n",
        START + timedelta(days=1),
        msgid=f"<again@{domain}>",
        reply_to=f"<answer@{domain}>",
    )
    minutes = _message(
        "Service des finances <finances@villeneuve.example>",
        f"Camille Laurent <{camille}>",
        "Compte rendu du conseil municipal",
        "Bonjour,\n\nVeuillez trouver le compte rendu ci-joint.\n",
        START + timedelta(days=1, hours=3),
        msgid="<minutes@villeneuve.example>",
    )
    minutes.add_attachment(
        b"Compte rendu\n1. Budget\n2. Travaux\n", maintype="text", subtype="plain", filename="compte-rendu.txt"
    )
    letter = _message(
        "La lettre de la région <lettre@region.example>",
        camille,
        "Les nouvelles de janvier",
        "Les nouvelles de janvier",
        START + timedelta(days=2),
        msgid="<letter@region.example>",
    )
    letter.add_alternative(
        '<h2>Les nouvelles de janvier</h2><p><img src="cid:logo@region.example" alt="Logo de la région" width="16">'
        ' Trois projets lancés ce mois-ci.</p><p><img src="https://tracker.region.example/open.gif" alt=""></p>'
        '<p><a href="https://region.example/agenda">Voir l\'agenda</a></p>',
        subtype="html",
    )
    letter.get_payload()[1].add_related(LOGO, maintype="image", subtype="png", cid="<logo@region.example>")
    roadworks = _message(
        f"Hugo Bernard <{hugo}>",
        f"Camille Laurent <{camille}>",
        "Travaux rue des Écoles",
        "Les travaux commencent lundi.\n",
        START + timedelta(days=2, hours=4),
        msgid=f"<works@{domain}>",
    )
    register = _message(
        "Greffe <greffe@villeneuve.example>",
        camille,
        "Registre des délibérations 2025",
        "".join(f"Délibération n° {n} : adoptée à l'unanimité.\n" for n in range(8000)),
        START + timedelta(days=2, hours=2),
        msgid="<register@villeneuve.example>",
    )
    return [
        (register, "Projets/Voirie", ("\\Seen",)),
        (kickoff, mailboxes.INBOX, ("\\Seen",)),
        (answer, "Sent", ("\\Seen",)),
        (again, mailboxes.INBOX, ()),
        (minutes, mailboxes.INBOX, ("\\Seen", "\\Flagged")),
        (letter, mailboxes.INBOX, ()),
        (roadworks, "Projets/Voirie", ()),
    ]


async def _named(user: TestUser, name: str) -> None:
    async with org_session(user.org_id) as db:
        row = await db.get(User, user.id)
        assert row is not None
        row.display_name = name
        await db.commit()


async def make_mail_workplace() -> MailWorkplace:
    org = await make_org(name="Mairie de Villeneuve", modules=("mail",))
    camille = await make_user(org)
    hugo = await make_user(org)
    await _named(camille, "Camille Laurent")
    await _named(hugo, "Hugo Bernard")
    async with org_session(org.id) as db:
        owner = await db.get(User, camille.id)
        assert owner is not None
        mailbox = await mailboxes.user_mailbox(db, owner)
        await mailboxes.create_folder(db, mailbox, "Projets/Voirie")
        await sieve.save_rules(db, mailbox, [VOIRIE_RULE])
        shared = await mailboxes.create_shared_mailbox(db, org.id, f"accueil@{org.domain}", "Accueil de la mairie")
        await mailboxes.grant(db, shared, camille.id, can_send_as=True)
        folders = {f.name: f for f in await mailboxes.folders(db, mailbox.id)}
        subjects = []
        for message, name, flags in _mail(camille.email, hugo.email, org.domain):
            folder: Folder = folders[name]
            await store.append(
                db,
                folder,
                message.as_bytes(policy=SMTP),
                flags=flags,
                internal_date=datetime.strptime(message["Date"], "%a, %d %b %Y %H:%M:%S %z"),
            )
            subjects.append(str(message["Subject"]))
        await db.commit()
    return MailWorkplace(org, camille, hugo, subjects)
