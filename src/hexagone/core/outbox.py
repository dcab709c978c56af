"""Platform e-mail (password reset, invitation) waits here, in the same transaction as the
token it carries, until the mail module delivers it."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from hexagone.core.models import OutboxMessage


def enqueue(
    db: AsyncSession, *, org_id: uuid.UUID | None, recipient: str, subject: str, body: str, kind: str
) -> OutboxMessage:
    message = OutboxMessage(org_id=org_id, recipient=recipient, subject=subject, body=body, kind=kind)
    db.add(message)
    return message
