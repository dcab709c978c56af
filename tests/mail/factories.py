"""Mail factories: organisations that subscribe to mail, messages built with the
standard library's ``email`` package, delivered through the real store."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from sqlalchemy import select

from hexagone.core.db import org_session, system_session
from hexagone.identity.models import User
from hexagone.mail.models import Folder, Mailbox, Message
from hexagone.mail.service import mailboxes, store
from tests.factories import TestOrg, TestUser, make_org, make_user


async def make_mail_org(**kwargs: object) -> TestOrg:
    return await make_org(modules=("mail",), **kwargs)  # type: ignore[arg-type]


async def make_mail_user(org: TestOrg | None = None, **kwargs: object) -> TestUser:
    return await make_user(org or await make_mail_org(), **kwargs)  # type: ignore[arg-type]


def make_message(
    *,
    sender: str = "someone@example.net",
    to: str = "nobody@example.org",
    subject: str | None = None,
    body: str = "Bonjour,\n\nceci est un message de test.\n",
    message_id: str | None = None,
    in_reply_to: str | None = None,
    date: datetime | None = None,
    attachments: tuple[tuple[str, bytes, str], ...] = (),
) -> bytes:
    """An RFC 5322 message as bytes (CRLF line ends, as on the wire)."""
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject or f"Test {uuid.uuid4().hex[:8]}"
    msg["Date"] = format_datetime(date or datetime.now(UTC))
    msg["Message-ID"] = message_id or make_msgid(domain="example.net")
    if in_reply_to:
        msg["In-Reply-To"] = in_reply_to
        msg["References"] = in_reply_to
    msg.set_content(body)
    for filename, data, mimetype in attachments:
        maintype, _, subtype = mimetype.partition("/")
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    return msg.as_bytes(policy=msg.policy.clone(linesep="\r\n"))


async def folder_of(user: TestUser, name: str = "INBOX") -> Folder:
    async with org_session(user.org_id) as db:
        row = await db.get(User, user.id)
        assert row is not None
        mailbox = await mailboxes.user_mailbox(db, row)
        folder = await mailboxes.folder_by_name(db, mailbox.id, name)
        await db.commit()
        assert folder is not None
        return folder


async def deliver(
    user: TestUser,
    raw: bytes | None = None,
    *,
    folder: str = "INBOX",
    flags: tuple[str, ...] = (),
    internal_date: datetime | None = None,
    **message: object,
) -> Message:
    """Put a message in one of ``user``'s folders through the store, as a delivery would."""
    target = await folder_of(user, folder)
    async with org_session(user.org_id) as db:
        target = await db.get(Folder, target.id)
        assert target is not None
        added = await store.append(
            db,
            target,
            raw or make_message(**message),  # type: ignore[arg-type]
            flags=flags,
            internal_date=internal_date,
        )
        await db.commit()
        return added


async def messages_in(user: TestUser, folder: str = "INBOX") -> list[Message]:
    target = await folder_of(user, folder)
    async with system_session() as db:
        return list(
            (await db.execute(select(Message).where(Message.folder_id == target.id).order_by(Message.uid))).scalars()
        )


async def grant_shared(org: TestOrg, address: str, user: TestUser, *, can_write: bool) -> None:
    """Give ``user`` the shared mailbox ``address`` (made on first use)."""
    async with org_session(org.id, write=True) as db:
        mailbox = (await db.execute(select(Mailbox).where(Mailbox.address == address))).scalar_one_or_none()
        if mailbox is None:
            mailbox = await mailboxes.create_shared_mailbox(db, org.id, address, "Contact")
        await mailboxes.grant(db, mailbox, user.id, can_write=can_write)
        await db.commit()
