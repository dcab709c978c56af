"""Mail that every client trusts (issue #11): IMAP subscriptions as a list of names per
user (they were a flag on folders), the folder's first \\Recent UID (one session sees a
message as recent), the day of a message's Date header in its own zone (SENT* searches), the
date a message was saved into its folder (SAVEDATE), and mailboxes' Sieve scripts.

Existing data: every subscribed folder becomes a subscription of its owner and, for a
shared mailbox, of each user it is granted to, under the name they see it by; nothing
already stored is recent; a message's save date is its internal date and its sent day the
UTC day of its Date header until ``hexagone mail reparse`` reads the header again.

Revision ID: 0003_mail_trust
Revises: 0002_mail_fulltext
"""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from alembic import op

import hexagone.core.db
from hexagone.migrations import rows

revision = "0003_mail_trust"
down_revision = "0002_mail_fulltext"
branch_labels = None
depends_on = None

SUBSCRIPTIONS_OF_OWNERS = """
INSERT INTO mail_subscriptions (id, org_id, user_id, name)
SELECT f.id, f.org_id, m.user_id, f.name
FROM mail_folders f JOIN mail_mailboxes m ON m.id = f.mailbox_id
WHERE f.subscribed AND m.user_id IS NOT NULL
"""
SHARED_SUBSCRIPTIONS = """
SELECT f.org_id, g.user_id, 'Shared/' || m.address || '/' || f.name
FROM mail_folders f JOIN mail_mailboxes m ON m.id = f.mailbox_id JOIN mail_grants g ON g.mailbox_id = m.id
WHERE f.subscribed
"""


def upgrade() -> None:
    op.create_table(
        "mail_subscriptions",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=500), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organisations.id"],
            name=op.f("fk_mail_subscriptions_org_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_mail_subscriptions_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mail_subscriptions")),
        sa.UniqueConstraint("user_id", "name", name=op.f("uq_mail_subscriptions_user_id")),
    )
    with op.batch_alter_table("mail_subscriptions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_mail_subscriptions_org_id"), ["org_id"], unique=False)

    op.create_table(
        "mail_sieve_scripts",
        sa.Column("mailbox_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", hexagone.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["mailbox_id"],
            ["mail_mailboxes.id"],
            name=op.f("fk_mail_sieve_scripts_mailbox_id_mail_mailboxes"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organisations.id"],
            name=op.f("fk_mail_sieve_scripts_org_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mail_sieve_scripts")),
        sa.UniqueConstraint("mailbox_id", "name", name=op.f("uq_mail_sieve_scripts_mailbox_id")),
    )
    with op.batch_alter_table("mail_sieve_scripts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_mail_sieve_scripts_mailbox_id"), ["mailbox_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_mail_sieve_scripts_org_id"), ["org_id"], unique=False)

    with op.batch_alter_table("mail_folders", schema=None) as batch_op:
        batch_op.add_column(sa.Column("first_recent_uid", sa.BigInteger(), server_default="1", nullable=False))

    with op.batch_alter_table("mail_messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("saved_at", hexagone.core.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("sent_on", sa.Date(), nullable=True))
        batch_op.create_index("ix_mail_messages_folder_sent_on", ["folder_id", "sent_on"], unique=False)

    _carry_over_existing_data()


def downgrade() -> None:
    with op.batch_alter_table("mail_messages", schema=None) as batch_op:
        batch_op.drop_index("ix_mail_messages_folder_sent_on")
        batch_op.drop_column("sent_on")
        batch_op.drop_column("saved_at")

    with op.batch_alter_table("mail_folders", schema=None) as batch_op:
        batch_op.drop_column("first_recent_uid")

    with op.batch_alter_table("mail_sieve_scripts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_mail_sieve_scripts_org_id"))
        batch_op.drop_index(batch_op.f("ix_mail_sieve_scripts_mailbox_id"))

    op.drop_table("mail_sieve_scripts")
    with op.batch_alter_table("mail_subscriptions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_mail_subscriptions_org_id"))

    op.drop_table("mail_subscriptions")


def _carry_over_existing_data() -> None:
    bind = op.get_bind()
    bind.execute(sa.text(SUBSCRIPTIONS_OF_OWNERS))
    shared = bind.execute(sa.text(SHARED_SUBSCRIPTIONS))
    rows.insert(
        "mail_subscriptions",
        {"id": sa.Uuid(), "org_id": sa.Uuid(), "user_id": sa.Uuid(), "name": sa.String()},
        ({"id": uuid.uuid4(), "org_id": org, "user_id": user, "name": name} for org, user, name in shared),
    )
    bind.execute(sa.text("UPDATE mail_folders SET first_recent_uid = uid_next"))
    bind.execute(sa.text("UPDATE mail_messages SET saved_at = internal_date"))
    day = "date(sent_date)" if bind.dialect.name == "sqlite" else "CAST(sent_date AT TIME ZONE 'UTC' AS DATE)"
    bind.execute(sa.text(f"UPDATE mail_messages SET sent_on = {day} WHERE sent_date IS NOT NULL"))
