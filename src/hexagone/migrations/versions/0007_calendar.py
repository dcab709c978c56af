"""The calendar module's tables (issue #17): calendars and address books, their
resources, the tombstones sync-collection reports, and shares.

Revision ID: 0007_calendar
Revises: 0006_sieve
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import hexagone.core.db


revision = "0007_calendar"
down_revision = "0006_sieve"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "cal_collections",
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("purpose", sa.String(length=16), nullable=False),
        sa.Column("owner_id", sa.Uuid(), nullable=True),
        sa.Column("space_id", sa.Uuid(), nullable=True),
        sa.Column("slug", sa.String(length=100), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("color", sa.String(length=9), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("components", sa.String(length=40), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=True),
        sa.Column("address", sa.String(length=320), nullable=False),
        sa.Column("resource_kind", sa.String(length=16), nullable=False),
        sa.Column("subscription_url", sa.String(length=2000), nullable=False),
        sa.Column("sync_seq", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", hexagone.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", hexagone.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organisations.id"], name=op.f("fk_cal_collections_org_id_organisations"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["users.id"], name=op.f("fk_cal_collections_owner_id_users"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["space_id"], ["spaces.id"], name=op.f("fk_cal_collections_space_id_spaces"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cal_collections")),
        sa.UniqueConstraint("org_id", "owner_id", "space_id", "kind", "slug", name=op.f("uq_cal_collections_org_id")),
    )
    with op.batch_alter_table("cal_collections", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_cal_collections_address"), ["address"], unique=False)
        batch_op.create_index(batch_op.f("ix_cal_collections_org_id"), ["org_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_cal_collections_owner_id"), ["owner_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_cal_collections_space_id"), ["space_id"], unique=False)

    op.create_table(
        "cal_objects",
        sa.Column("collection_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("uid", sa.String(length=255), nullable=False),
        sa.Column("component", sa.String(length=16), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
        sa.Column("etag", sa.String(length=64), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("starts_at", hexagone.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("ends_at", hexagone.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("recurring", sa.Boolean(), nullable=False),
        sa.Column("floating", sa.Boolean(), nullable=False),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("emails", sa.Text(), nullable=False),
        sa.Column("updated_at", hexagone.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["collection_id"],
            ["cal_collections.id"],
            name=op.f("fk_cal_objects_collection_id_cal_collections"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organisations.id"], name=op.f("fk_cal_objects_org_id_organisations"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cal_objects")),
        sa.UniqueConstraint("collection_id", "name", name="uq_cal_objects_name"),
        sa.UniqueConstraint("collection_id", "uid", name="uq_cal_objects_uid"),
    )
    with op.batch_alter_table("cal_objects", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_cal_objects_org_id"), ["org_id"], unique=False)
        batch_op.create_index("ix_cal_objects_span", ["collection_id", "starts_at"], unique=False)
        batch_op.create_index("ix_cal_objects_sync", ["collection_id", "seq"], unique=False)

    op.create_table(
        "cal_shares",
        sa.Column("collection_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=True),
        sa.Column("group_id", sa.Uuid(), nullable=True),
        sa.Column("access", sa.String(length=16), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", hexagone.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["collection_id"],
            ["cal_collections.id"],
            name=op.f("fk_cal_shares_collection_id_cal_collections"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["group_id"], ["groups.id"], name=op.f("fk_cal_shares_group_id_groups"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organisations.id"], name=op.f("fk_cal_shares_org_id_organisations"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_cal_shares_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cal_shares")),
        sa.UniqueConstraint("collection_id", "user_id", "group_id", name=op.f("uq_cal_shares_collection_id")),
    )
    with op.batch_alter_table("cal_shares", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_cal_shares_collection_id"), ["collection_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_cal_shares_group_id"), ["group_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_cal_shares_org_id"), ["org_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_cal_shares_user_id"), ["user_id"], unique=False)

    op.create_table(
        "cal_tombstones",
        sa.Column("collection_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["collection_id"],
            ["cal_collections.id"],
            name=op.f("fk_cal_tombstones_collection_id_cal_collections"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organisations.id"], name=op.f("fk_cal_tombstones_org_id_organisations"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cal_tombstones")),
    )
    with op.batch_alter_table("cal_tombstones", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_cal_tombstones_org_id"), ["org_id"], unique=False)
        batch_op.create_index("ix_cal_tombstones_sync", ["collection_id", "seq"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("cal_tombstones", schema=None) as batch_op:
        batch_op.drop_index("ix_cal_tombstones_sync")
        batch_op.drop_index(batch_op.f("ix_cal_tombstones_org_id"))

    op.drop_table("cal_tombstones")
    with op.batch_alter_table("cal_shares", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cal_shares_user_id"))
        batch_op.drop_index(batch_op.f("ix_cal_shares_org_id"))
        batch_op.drop_index(batch_op.f("ix_cal_shares_group_id"))
        batch_op.drop_index(batch_op.f("ix_cal_shares_collection_id"))

    op.drop_table("cal_shares")
    with op.batch_alter_table("cal_objects", schema=None) as batch_op:
        batch_op.drop_index("ix_cal_objects_sync")
        batch_op.drop_index("ix_cal_objects_span")
        batch_op.drop_index(batch_op.f("ix_cal_objects_org_id"))

    op.drop_table("cal_objects")
    with op.batch_alter_table("cal_collections", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cal_collections_space_id"))
        batch_op.drop_index(batch_op.f("ix_cal_collections_owner_id"))
        batch_op.drop_index(batch_op.f("ix_cal_collections_org_id"))
        batch_op.drop_index(batch_op.f("ix_cal_collections_address"))

    op.drop_table("cal_collections")
