"""The chat module's tables (issue #19): channels, members with read markers, messages,
edits kept for the audit, reactions, the event log reconnecting clients resume from,
the organisations' sequence counters and chat settings.

Revision ID: 0015_chat
Revises: 0014_drive_previews
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import hexagone.core.db


revision = "0015_chat"
down_revision = "0014_drive_previews"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "chat_counters",
        sa.Column("id", hexagone.core.db.UUIDColumn(), nullable=False),
        sa.Column("last_seq", sa.BigInteger(), nullable=False),
        sa.Column("org_id", hexagone.core.db.UUIDColumn(), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organisations.id"], name=op.f("fk_chat_counters_org_id_organisations"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chat_counters")),
        sa.UniqueConstraint("org_id", name="uq_chat_counters_org_id"),
    )
    with op.batch_alter_table("chat_counters", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_chat_counters_org_id"), ["org_id"], unique=False)

    op.create_table(
        "chat_settings",
        sa.Column("retention_days", sa.Integer(), nullable=True),
        sa.Column("keep_history", sa.Boolean(), nullable=False),
        sa.Column("id", hexagone.core.db.UUIDColumn(), nullable=False),
        sa.Column("org_id", hexagone.core.db.UUIDColumn(), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organisations.id"], name=op.f("fk_chat_settings_org_id_organisations"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chat_settings")),
        sa.UniqueConstraint("org_id", name="uq_chat_settings_org_id"),
    )
    with op.batch_alter_table("chat_settings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_chat_settings_org_id"), ["org_id"], unique=False)

    op.create_table(
        "chat_channels",
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("space_id", hexagone.core.db.UUIDColumn(), nullable=True),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("name_key", sa.String(length=320), nullable=False),
        sa.Column("topic", sa.String(length=250), nullable=False),
        sa.Column("direct_key", sa.String(length=400), nullable=True),
        sa.Column("created_by", hexagone.core.db.UUIDColumn(), nullable=True),
        sa.Column("archived_at", hexagone.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_seq", sa.BigInteger(), nullable=False),
        sa.Column("last_message_at", hexagone.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("id", hexagone.core.db.UUIDColumn(), nullable=False),
        sa.Column("org_id", hexagone.core.db.UUIDColumn(), nullable=False),
        sa.Column("created_at", hexagone.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_chat_channels_created_by_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organisations.id"], name=op.f("fk_chat_channels_org_id_organisations"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["space_id"], ["spaces.id"], name=op.f("fk_chat_channels_space_id_spaces"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chat_channels")),
        sa.UniqueConstraint("direct_key", name=op.f("uq_chat_channels_direct_key")),
        sa.UniqueConstraint("space_id", name=op.f("uq_chat_channels_space_id")),
    )
    with op.batch_alter_table("chat_channels", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_chat_channels_org_id"), ["org_id"], unique=False)
        batch_op.create_index(
            "uq_chat_channels_name",
            ["org_id", "name_key"],
            unique=True,
            sqlite_where=sa.text("kind IN ('public', 'private')"),
            postgresql_where=sa.text("kind IN ('public', 'private')"),
        )

    op.create_table(
        "chat_events",
        sa.Column("id", hexagone.core.db.UUIDColumn(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("channel_id", hexagone.core.db.UUIDColumn(), nullable=True),
        sa.Column("user_id", hexagone.core.db.UUIDColumn(), nullable=True),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("created_at", hexagone.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("org_id", hexagone.core.db.UUIDColumn(), nullable=False),
        sa.ForeignKeyConstraint(
            ["channel_id"],
            ["chat_channels.id"],
            name=op.f("fk_chat_events_channel_id_chat_channels"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organisations.id"], name=op.f("fk_chat_events_org_id_organisations"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_chat_events_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chat_events")),
        sa.UniqueConstraint("org_id", "seq", name="uq_chat_events_org_seq"),
    )
    with op.batch_alter_table("chat_events", schema=None) as batch_op:
        batch_op.create_index("ix_chat_events_created", ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_chat_events_org_id"), ["org_id"], unique=False)

    op.create_table(
        "chat_members",
        sa.Column("channel_id", hexagone.core.db.UUIDColumn(), nullable=False),
        sa.Column("user_id", hexagone.core.db.UUIDColumn(), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("joined_at", hexagone.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_read_seq", sa.BigInteger(), nullable=False),
        sa.Column("muted", sa.Boolean(), nullable=False),
        sa.Column("id", hexagone.core.db.UUIDColumn(), nullable=False),
        sa.Column("org_id", hexagone.core.db.UUIDColumn(), nullable=False),
        sa.ForeignKeyConstraint(
            ["channel_id"],
            ["chat_channels.id"],
            name=op.f("fk_chat_members_channel_id_chat_channels"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organisations.id"], name=op.f("fk_chat_members_org_id_organisations"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_chat_members_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chat_members")),
        sa.UniqueConstraint("channel_id", "user_id", name="uq_chat_members_channel_user"),
    )
    with op.batch_alter_table("chat_members", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_chat_members_org_id"), ["org_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_chat_members_user_id"), ["user_id"], unique=False)

    op.create_table(
        "chat_messages",
        sa.Column("channel_id", hexagone.core.db.UUIDColumn(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("author_id", hexagone.core.db.UUIDColumn(), nullable=True),
        sa.Column("thread_id", hexagone.core.db.UUIDColumn(), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("html", sa.Text(), nullable=False),
        sa.Column("mentions", sa.JSON(), nullable=False),
        sa.Column("client_id", sa.String(length=64), nullable=True),
        sa.Column("edited_at", hexagone.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("deleted_at", hexagone.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("pinned_at", hexagone.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("pinned_by", hexagone.core.db.UUIDColumn(), nullable=True),
        sa.Column("reply_count", sa.Integer(), nullable=False),
        sa.Column("last_reply_at", hexagone.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("id", hexagone.core.db.UUIDColumn(), nullable=False),
        sa.Column("org_id", hexagone.core.db.UUIDColumn(), nullable=False),
        sa.Column("created_at", hexagone.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"], ["users.id"], name=op.f("fk_chat_messages_author_id_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["channel_id"],
            ["chat_channels.id"],
            name=op.f("fk_chat_messages_channel_id_chat_channels"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organisations.id"], name=op.f("fk_chat_messages_org_id_organisations"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["pinned_by"], ["users.id"], name=op.f("fk_chat_messages_pinned_by_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["thread_id"],
            ["chat_messages.id"],
            name=op.f("fk_chat_messages_thread_id_chat_messages"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chat_messages")),
        sa.UniqueConstraint("author_id", "client_id", name="uq_chat_messages_client_id"),
    )
    with op.batch_alter_table("chat_messages", schema=None) as batch_op:
        batch_op.create_index("ix_chat_messages_channel_seq", ["channel_id", "seq"], unique=False)
        batch_op.create_index(batch_op.f("ix_chat_messages_org_id"), ["org_id"], unique=False)
        batch_op.create_index("ix_chat_messages_thread_seq", ["thread_id", "seq"], unique=False)

    op.create_table(
        "chat_reactions",
        sa.Column("message_id", hexagone.core.db.UUIDColumn(), nullable=False),
        sa.Column("user_id", hexagone.core.db.UUIDColumn(), nullable=False),
        sa.Column("emoji", sa.String(length=32), nullable=False),
        sa.Column("id", hexagone.core.db.UUIDColumn(), nullable=False),
        sa.Column("org_id", hexagone.core.db.UUIDColumn(), nullable=False),
        sa.Column("created_at", hexagone.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["chat_messages.id"],
            name=op.f("fk_chat_reactions_message_id_chat_messages"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organisations.id"], name=op.f("fk_chat_reactions_org_id_organisations"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_chat_reactions_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chat_reactions")),
        sa.UniqueConstraint("message_id", "user_id", "emoji", name="uq_chat_reactions_one"),
    )
    with op.batch_alter_table("chat_reactions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_chat_reactions_message_id"), ["message_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_chat_reactions_org_id"), ["org_id"], unique=False)

    op.create_table(
        "chat_revisions",
        sa.Column("message_id", hexagone.core.db.UUIDColumn(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("changed_by", hexagone.core.db.UUIDColumn(), nullable=True),
        sa.Column("change", sa.String(length=16), nullable=False),
        sa.Column("id", hexagone.core.db.UUIDColumn(), nullable=False),
        sa.Column("org_id", hexagone.core.db.UUIDColumn(), nullable=False),
        sa.Column("created_at", hexagone.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["changed_by"], ["users.id"], name=op.f("fk_chat_revisions_changed_by_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["chat_messages.id"],
            name=op.f("fk_chat_revisions_message_id_chat_messages"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organisations.id"], name=op.f("fk_chat_revisions_org_id_organisations"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chat_revisions")),
    )
    with op.batch_alter_table("chat_revisions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_chat_revisions_message_id"), ["message_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_chat_revisions_org_id"), ["org_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("chat_revisions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_chat_revisions_org_id"))
        batch_op.drop_index(batch_op.f("ix_chat_revisions_message_id"))

    op.drop_table("chat_revisions")
    with op.batch_alter_table("chat_reactions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_chat_reactions_org_id"))
        batch_op.drop_index(batch_op.f("ix_chat_reactions_message_id"))

    op.drop_table("chat_reactions")
    with op.batch_alter_table("chat_messages", schema=None) as batch_op:
        batch_op.drop_index("ix_chat_messages_thread_seq")
        batch_op.drop_index(batch_op.f("ix_chat_messages_org_id"))
        batch_op.drop_index("ix_chat_messages_channel_seq")

    op.drop_table("chat_messages")
    with op.batch_alter_table("chat_members", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_chat_members_user_id"))
        batch_op.drop_index(batch_op.f("ix_chat_members_org_id"))

    op.drop_table("chat_members")
    with op.batch_alter_table("chat_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_chat_events_org_id"))
        batch_op.drop_index("ix_chat_events_created")

    op.drop_table("chat_events")
    with op.batch_alter_table("chat_channels", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_chat_channels_name",
            sqlite_where=sa.text("kind IN ('public', 'private')"),
            postgresql_where=sa.text("kind IN ('public', 'private')"),
        )
        batch_op.drop_index(batch_op.f("ix_chat_channels_org_id"))

    op.drop_table("chat_channels")
    with op.batch_alter_table("chat_settings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_chat_settings_org_id"))

    op.drop_table("chat_settings")
    with op.batch_alter_table("chat_counters", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_chat_counters_org_id"))

    op.drop_table("chat_counters")
