"""Calendar scheduling (issue 17, RFC 6638): each user's scheduling inbox (its change
counter) and the iTIP messages delivered to it, and whether a calendar's events count
in its owner's free/busy (``schedule-calendar-transp``; every existing calendar does).

Revision ID: 0008_calendar_scheduling
Revises: 0007_calendar
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import hexagone.core.db

revision = "0008_calendar_scheduling"
down_revision = "0007_calendar"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "cal_schedule_inboxes",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("sync_seq", sa.BigInteger(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organisations.id"],
            name=op.f("fk_cal_schedule_inboxes_org_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_cal_schedule_inboxes_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_cal_schedule_inboxes")),
    )
    with op.batch_alter_table("cal_schedule_inboxes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_cal_schedule_inboxes_org_id"), ["org_id"], unique=False)

    op.create_table(
        "cal_inbox_messages",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("uid", sa.String(length=255), nullable=False),
        sa.Column("method", sa.String(length=16), nullable=False),
        sa.Column("component", sa.String(length=16), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
        sa.Column("etag", sa.String(length=64), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.Column("created_at", hexagone.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organisations.id"],
            name=op.f("fk_cal_inbox_messages_org_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["cal_schedule_inboxes.user_id"],
            name=op.f("fk_cal_inbox_messages_user_id_cal_schedule_inboxes"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cal_inbox_messages")),
        sa.UniqueConstraint("user_id", "name", name="uq_cal_inbox_messages_name"),
    )
    with op.batch_alter_table("cal_inbox_messages", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_cal_inbox_messages_org_id"), ["org_id"], unique=False)
        batch_op.create_index("ix_cal_inbox_messages_sync", ["user_id", "seq"], unique=False)

    with op.batch_alter_table("cal_collections", schema=None) as batch_op:
        batch_op.add_column(sa.Column("transparent", sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("cal_collections", schema=None) as batch_op:
        batch_op.drop_column("transparent")
    with op.batch_alter_table("cal_inbox_messages", schema=None) as batch_op:
        batch_op.drop_index("ix_cal_inbox_messages_sync")
        batch_op.drop_index(batch_op.f("ix_cal_inbox_messages_org_id"))
    op.drop_table("cal_inbox_messages")
    with op.batch_alter_table("cal_schedule_inboxes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cal_schedule_inboxes_org_id"))
    op.drop_table("cal_schedule_inboxes")
