"""Files sent in the chat: ``chat_attachments``, one row per file (uploaded, then attached
to the message that sends it), its bytes and preview in the blob store.

Revision ID: 0016_chat_attachments
Revises: 0015_chat
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import hexagone.core.db

revision = "0016_chat_attachments"
down_revision = "0015_chat"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "chat_attachments",
        sa.Column("channel_id", hexagone.core.db.UUIDColumn(), nullable=False),
        sa.Column("message_id", hexagone.core.db.UUIDColumn(), nullable=True),
        sa.Column("uploaded_by", hexagone.core.db.UUIDColumn(), nullable=True),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("content_type", sa.String(length=127), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("blob_key", sa.String(length=300), nullable=False),
        sa.Column("has_preview", sa.Boolean(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("id", hexagone.core.db.UUIDColumn(), nullable=False),
        sa.Column("org_id", hexagone.core.db.UUIDColumn(), nullable=False),
        sa.Column("created_at", hexagone.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["channel_id"],
            ["chat_channels.id"],
            name=op.f("fk_chat_attachments_channel_id_chat_channels"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["chat_messages.id"],
            name=op.f("fk_chat_attachments_message_id_chat_messages"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organisations.id"], name=op.f("fk_chat_attachments_org_id_organisations"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["uploaded_by"], ["users.id"], name=op.f("fk_chat_attachments_uploaded_by_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chat_attachments")),
    )
    with op.batch_alter_table("chat_attachments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_chat_attachments_message_id"), ["message_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_chat_attachments_org_id"), ["org_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("chat_attachments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_chat_attachments_org_id"))
        batch_op.drop_index(batch_op.f("ix_chat_attachments_message_id"))

    op.drop_table("chat_attachments")
