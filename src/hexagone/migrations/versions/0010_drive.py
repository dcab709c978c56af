"""The drive module's tables (issue #18): drives, the folder and file tree, versions,
locks, dead properties, tags, custom fields, favourites, recent files, shares, extracted
text and the organisations' drive settings.

Revision ID: 0010_drive
Revises: 0009_calendar_short_spans
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import hexagone.core.db


revision = "0010_drive"
down_revision = "0009_calendar_short_spans"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "drive_settings",
        sa.Column("quota_bytes", sa.BigInteger(), nullable=True),
        sa.Column("user_quota_bytes", sa.BigInteger(), nullable=True),
        sa.Column("space_quota_bytes", sa.BigInteger(), nullable=True),
        sa.Column("keep_versions", sa.Integer(), nullable=False),
        sa.Column("keep_version_days", sa.Integer(), nullable=False),
        sa.Column("trash_days", sa.Integer(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organisations.id"], name=op.f("fk_drive_settings_org_id_organisations"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_drive_settings")),
        sa.UniqueConstraint("org_id", name="uq_drive_settings_org_id"),
    )
    with op.batch_alter_table("drive_settings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_drive_settings_org_id"), ["org_id"], unique=False)

    op.create_table(
        "drive_drives",
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("owner_id", sa.Uuid(), nullable=True),
        sa.Column("space_id", sa.Uuid(), nullable=True),
        sa.Column("root_id", sa.Uuid(), nullable=True),
        sa.Column("quota_bytes", sa.BigInteger(), nullable=True),
        sa.Column("used_bytes", sa.BigInteger(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", hexagone.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organisations.id"], name=op.f("fk_drive_drives_org_id_organisations"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["users.id"], name=op.f("fk_drive_drives_owner_id_users"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["space_id"], ["spaces.id"], name=op.f("fk_drive_drives_space_id_spaces"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_drive_drives")),
        sa.UniqueConstraint("owner_id", name=op.f("uq_drive_drives_owner_id")),
        sa.UniqueConstraint("space_id", name=op.f("uq_drive_drives_space_id")),
    )
    with op.batch_alter_table("drive_drives", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_drive_drives_org_id"), ["org_id"], unique=False)

    op.create_table(
        "drive_field_defs",
        sa.Column("drive_id", sa.Uuid(), nullable=False),
        sa.Column("label", sa.String(length=100), nullable=False),
        sa.Column("key", sa.String(length=400), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("choices", sa.Text(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", hexagone.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["drive_id"],
            ["drive_drives.id"],
            name=op.f("fk_drive_field_defs_drive_id_drive_drives"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organisations.id"], name=op.f("fk_drive_field_defs_org_id_organisations"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_drive_field_defs")),
        sa.UniqueConstraint("drive_id", "key", name="uq_drive_field_defs_key"),
    )
    with op.batch_alter_table("drive_field_defs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_drive_field_defs_org_id"), ["org_id"], unique=False)

    op.create_table(
        "drive_nodes",
        sa.Column("drive_id", sa.Uuid(), nullable=False),
        sa.Column("parent_id", sa.Uuid(), nullable=True),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("name_key", sa.String(length=1020), nullable=False),
        sa.Column("current_version_id", sa.Uuid(), nullable=True),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("etag", sa.String(length=64), nullable=False),
        sa.Column("content_type", sa.String(length=255), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        sa.Column("created_at", hexagone.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("modified_by", sa.Uuid(), nullable=True),
        sa.Column("modified_at", hexagone.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("trashed_at", hexagone.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("trashed_by", sa.Uuid(), nullable=True),
        sa.Column("original_parent_id", sa.Uuid(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_drive_nodes_created_by_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["drive_id"], ["drive_drives.id"], name=op.f("fk_drive_nodes_drive_id_drive_drives"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["modified_by"], ["users.id"], name=op.f("fk_drive_nodes_modified_by_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organisations.id"], name=op.f("fk_drive_nodes_org_id_organisations"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["original_parent_id"],
            ["drive_nodes.id"],
            name=op.f("fk_drive_nodes_original_parent_id_drive_nodes"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["parent_id"], ["drive_nodes.id"], name=op.f("fk_drive_nodes_parent_id_drive_nodes"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["trashed_by"], ["users.id"], name=op.f("fk_drive_nodes_trashed_by_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_drive_nodes")),
    )
    with op.batch_alter_table("drive_nodes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_drive_nodes_org_id"), ["org_id"], unique=False)
        batch_op.create_index("ix_drive_nodes_parent", ["parent_id"], unique=False)
        batch_op.create_index("ix_drive_nodes_trash", ["drive_id", "trashed_at"], unique=False)
        batch_op.create_index(
            "uq_drive_nodes_parent_name",
            ["parent_id", "name_key"],
            unique=True,
            sqlite_where=sa.text("trashed_at IS NULL"),
            postgresql_where=sa.text("trashed_at IS NULL"),
        )

    op.create_table(
        "drive_favourites",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("node_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", hexagone.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["node_id"], ["drive_nodes.id"], name=op.f("fk_drive_favourites_node_id_drive_nodes"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organisations.id"], name=op.f("fk_drive_favourites_org_id_organisations"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_drive_favourites_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_drive_favourites")),
        sa.UniqueConstraint("user_id", "node_id", name="uq_drive_favourites_node"),
    )
    with op.batch_alter_table("drive_favourites", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_drive_favourites_node_id"), ["node_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_drive_favourites_org_id"), ["org_id"], unique=False)

    op.create_table(
        "drive_field_values",
        sa.Column("node_id", sa.Uuid(), nullable=False),
        sa.Column("field_id", sa.Uuid(), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["field_id"],
            ["drive_field_defs.id"],
            name=op.f("fk_drive_field_values_field_id_drive_field_defs"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["node_id"], ["drive_nodes.id"], name=op.f("fk_drive_field_values_node_id_drive_nodes"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organisations.id"],
            name=op.f("fk_drive_field_values_org_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_drive_field_values")),
        sa.UniqueConstraint("node_id", "field_id", name="uq_drive_field_values_field"),
    )
    with op.batch_alter_table("drive_field_values", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_drive_field_values_field_id"), ["field_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_drive_field_values_org_id"), ["org_id"], unique=False)

    op.create_table(
        "drive_locks",
        sa.Column("drive_id", sa.Uuid(), nullable=False),
        sa.Column("node_id", sa.Uuid(), nullable=True),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("token", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("scope", sa.String(length=16), nullable=False),
        sa.Column("depth", sa.String(length=16), nullable=False),
        sa.Column("owner_xml", sa.Text(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=True),
        sa.Column("expires_at", hexagone.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", hexagone.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["drive_id"], ["drive_drives.id"], name=op.f("fk_drive_locks_drive_id_drive_drives"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["node_id"], ["drive_nodes.id"], name=op.f("fk_drive_locks_node_id_drive_nodes"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organisations.id"], name=op.f("fk_drive_locks_org_id_organisations"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_drive_locks_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_drive_locks")),
        sa.UniqueConstraint("token", name=op.f("uq_drive_locks_token")),
    )
    with op.batch_alter_table("drive_locks", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_drive_locks_drive_id"), ["drive_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_drive_locks_node_id"), ["node_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_drive_locks_org_id"), ["org_id"], unique=False)

    op.create_table(
        "drive_props",
        sa.Column("node_id", sa.Uuid(), nullable=False),
        sa.Column("namespace", sa.String(length=1000), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["node_id"], ["drive_nodes.id"], name=op.f("fk_drive_props_node_id_drive_nodes"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organisations.id"], name=op.f("fk_drive_props_org_id_organisations"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_drive_props")),
        sa.UniqueConstraint("node_id", "namespace", "name", name="uq_drive_props_name"),
    )
    with op.batch_alter_table("drive_props", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_drive_props_org_id"), ["org_id"], unique=False)

    op.create_table(
        "drive_recent",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("node_id", sa.Uuid(), nullable=False),
        sa.Column("at", hexagone.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["node_id"], ["drive_nodes.id"], name=op.f("fk_drive_recent_node_id_drive_nodes"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organisations.id"], name=op.f("fk_drive_recent_org_id_organisations"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_drive_recent_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_drive_recent")),
        sa.UniqueConstraint("user_id", "node_id", name="uq_drive_recent_node"),
    )
    with op.batch_alter_table("drive_recent", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_drive_recent_node_id"), ["node_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_drive_recent_org_id"), ["org_id"], unique=False)
        batch_op.create_index("ix_drive_recent_user_at", ["user_id", "at"], unique=False)

    op.create_table(
        "drive_shares",
        sa.Column("node_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=True),
        sa.Column("group_id", sa.Uuid(), nullable=True),
        sa.Column("space_id", sa.Uuid(), nullable=True),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", hexagone.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_drive_shares_created_by_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["group_id"], ["groups.id"], name=op.f("fk_drive_shares_group_id_groups"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["node_id"], ["drive_nodes.id"], name=op.f("fk_drive_shares_node_id_drive_nodes"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organisations.id"], name=op.f("fk_drive_shares_org_id_organisations"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["space_id"], ["spaces.id"], name=op.f("fk_drive_shares_space_id_spaces"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_drive_shares_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_drive_shares")),
    )
    with op.batch_alter_table("drive_shares", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_drive_shares_group_id"), ["group_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_drive_shares_node_id"), ["node_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_drive_shares_org_id"), ["org_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_drive_shares_space_id"), ["space_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_drive_shares_user_id"), ["user_id"], unique=False)

    op.create_table(
        "drive_tags",
        sa.Column("node_id", sa.Uuid(), nullable=False),
        sa.Column("label", sa.String(length=100), nullable=False),
        sa.Column("key", sa.String(length=400), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["node_id"], ["drive_nodes.id"], name=op.f("fk_drive_tags_node_id_drive_nodes"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organisations.id"], name=op.f("fk_drive_tags_org_id_organisations"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_drive_tags")),
        sa.UniqueConstraint("node_id", "key", name="uq_drive_tags_key"),
    )
    with op.batch_alter_table("drive_tags", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_drive_tags_key"), ["key"], unique=False)
        batch_op.create_index(batch_op.f("ix_drive_tags_org_id"), ["org_id"], unique=False)

    op.create_table(
        "drive_versions",
        sa.Column("node_id", sa.Uuid(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("blob_key", sa.String(length=1024), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("content_type", sa.String(length=255), nullable=False),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        sa.Column("created_at", hexagone.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_drive_versions_created_by_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["node_id"], ["drive_nodes.id"], name=op.f("fk_drive_versions_node_id_drive_nodes"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organisations.id"], name=op.f("fk_drive_versions_org_id_organisations"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_drive_versions")),
        sa.UniqueConstraint("node_id", "number", name="uq_drive_versions_number"),
    )
    with op.batch_alter_table("drive_versions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_drive_versions_blob_key"), ["blob_key"], unique=False)
        batch_op.create_index(batch_op.f("ix_drive_versions_org_id"), ["org_id"], unique=False)

    op.create_table(
        "drive_texts",
        sa.Column("version_id", sa.Uuid(), nullable=False),
        sa.Column("node_id", sa.Uuid(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("extractor", sa.String(length=64), nullable=False),
        sa.Column("extracted_at", hexagone.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["node_id"], ["drive_nodes.id"], name=op.f("fk_drive_texts_node_id_drive_nodes"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organisations.id"], name=op.f("fk_drive_texts_org_id_organisations"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["drive_versions.id"],
            name=op.f("fk_drive_texts_version_id_drive_versions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("version_id", name=op.f("pk_drive_texts")),
    )
    with op.batch_alter_table("drive_texts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_drive_texts_node_id"), ["node_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_drive_texts_org_id"), ["org_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("drive_texts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_drive_texts_org_id"))
        batch_op.drop_index(batch_op.f("ix_drive_texts_node_id"))

    op.drop_table("drive_texts")
    with op.batch_alter_table("drive_versions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_drive_versions_org_id"))
        batch_op.drop_index(batch_op.f("ix_drive_versions_blob_key"))

    op.drop_table("drive_versions")
    with op.batch_alter_table("drive_tags", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_drive_tags_org_id"))
        batch_op.drop_index(batch_op.f("ix_drive_tags_key"))

    op.drop_table("drive_tags")
    with op.batch_alter_table("drive_shares", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_drive_shares_user_id"))
        batch_op.drop_index(batch_op.f("ix_drive_shares_space_id"))
        batch_op.drop_index(batch_op.f("ix_drive_shares_org_id"))
        batch_op.drop_index(batch_op.f("ix_drive_shares_node_id"))
        batch_op.drop_index(batch_op.f("ix_drive_shares_group_id"))

    op.drop_table("drive_shares")
    with op.batch_alter_table("drive_recent", schema=None) as batch_op:
        batch_op.drop_index("ix_drive_recent_user_at")
        batch_op.drop_index(batch_op.f("ix_drive_recent_org_id"))
        batch_op.drop_index(batch_op.f("ix_drive_recent_node_id"))

    op.drop_table("drive_recent")
    with op.batch_alter_table("drive_props", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_drive_props_org_id"))

    op.drop_table("drive_props")
    with op.batch_alter_table("drive_locks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_drive_locks_org_id"))
        batch_op.drop_index(batch_op.f("ix_drive_locks_node_id"))
        batch_op.drop_index(batch_op.f("ix_drive_locks_drive_id"))

    op.drop_table("drive_locks")
    with op.batch_alter_table("drive_field_values", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_drive_field_values_org_id"))
        batch_op.drop_index(batch_op.f("ix_drive_field_values_field_id"))

    op.drop_table("drive_field_values")
    with op.batch_alter_table("drive_favourites", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_drive_favourites_org_id"))
        batch_op.drop_index(batch_op.f("ix_drive_favourites_node_id"))

    op.drop_table("drive_favourites")
    with op.batch_alter_table("drive_nodes", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_drive_nodes_parent_name",
            sqlite_where=sa.text("trashed_at IS NULL"),
            postgresql_where=sa.text("trashed_at IS NULL"),
        )
        batch_op.drop_index("ix_drive_nodes_trash")
        batch_op.drop_index("ix_drive_nodes_parent")
        batch_op.drop_index(batch_op.f("ix_drive_nodes_org_id"))

    op.drop_table("drive_nodes")
    with op.batch_alter_table("drive_field_defs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_drive_field_defs_org_id"))

    op.drop_table("drive_field_defs")
    with op.batch_alter_table("drive_drives", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_drive_drives_org_id"))

    op.drop_table("drive_drives")
    with op.batch_alter_table("drive_settings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_drive_settings_org_id"))

    op.drop_table("drive_settings")
