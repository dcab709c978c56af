"""Mail rules (Sieve): the vacation reply becomes a Sieve ``vacation`` in each mailbox's
webmail script, which delivery runs.

Existing data: every mailbox whose automatic reply is on gets the script the settings
page now writes (:func:`hexagone.mail.sieve.generate.script` with no rule and its
vacation settings), active unless the mailbox already has an active script. The
vacation settings stay where they were (the settings page still reads them), so the
downgrade has nothing to undo: the code of 0003 ignores the scripts.

Revision ID: 0006_sieve
Revises: 0005_mail_search_text
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

from hexagone.core.db import UTCDateTime, utcnow
from hexagone.mail.sieve import generate
from hexagone.migrations import rows

revision = "0006_sieve"
down_revision = "0005_mail_search_text"
branch_labels = None
depends_on = None

WEBMAIL = "webmail"  # hexagone.mail.service.sieve.WEBMAIL when this was written
SCRIPTS: dict[str, sa.types.TypeEngine[Any]] = {  # the columns of mail_sieve_scripts this revision writes
    "id": sa.Uuid(),
    "org_id": sa.Uuid(),
    "mailbox_id": sa.Uuid(),
    "name": sa.String(),
    "content": sa.Text(),
    "active": sa.Boolean(),
    "created_at": sa.DateTime(timezone=True),
}
AWAY = """
SELECT m.id, m.org_id, m.vacation_body, m.vacation_subject, m.vacation_until,
       EXISTS (SELECT 1 FROM mail_sieve_scripts s WHERE s.mailbox_id = m.id AND s.active) AS has_active
FROM mail_mailboxes m
WHERE m.vacation_enabled
  AND NOT EXISTS (SELECT 1 FROM mail_sieve_scripts s WHERE s.mailbox_id = m.id AND s.name = :webmail)
"""


def upgrade() -> None:
    bind = op.get_bind()
    query = sa.text(AWAY).columns(
        sa.column("id", sa.Uuid()),
        sa.column("org_id", sa.Uuid()),
        sa.column("vacation_body", sa.Text()),
        sa.column("vacation_subject", sa.String()),
        sa.column("vacation_until", UTCDateTime(timezone=True)),
        sa.column("has_active", sa.Boolean()),
    )
    away = bind.execute(query, {"webmail": WEBMAIL})
    rows.insert("mail_sieve_scripts", SCRIPTS, (_script(*mailbox) for mailbox in away))


def _script(
    mailbox_id: uuid.UUID, org_id: uuid.UUID, body: str, subject: str, until: datetime | None, has_active: bool
) -> dict[str, object]:
    """The webmail script of a mailbox away: no rule, its vacation settings."""
    vacation = generate.VacationSettings(body, subject, until.date() if until else None)
    return {
        "id": uuid.uuid4(),
        "org_id": org_id,
        "mailbox_id": mailbox_id,
        "name": WEBMAIL,
        "content": generate.script([], vacation),
        "active": not has_active,
        "created_at": utcnow(),
    }


def downgrade() -> None:
    """Nothing to undo: the vacation settings were left where 0003's code reads them."""
