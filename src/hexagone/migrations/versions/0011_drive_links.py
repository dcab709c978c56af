"""The drive's public links (issue #18): a node shared by an address, to view or to drop
files into, with an optional password and expiry.

Revision ID: 0011_drive_links
Revises: 0010_drive
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import hexagone.core.db

revision = "0011_drive_links"
down_revision = "0010_drive"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "drive_links",
        sa.Column("node_id", sa.Uuid(), nullable=False),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        sa.Column("token_digest", sa.String(length=64), nullable=False),
        sa.Column("hint", sa.String(length=8), nullable=False),
        sa.Column("mode", sa.String(length=16), nullable=False),
        sa.Column("password_hash", sa.Text(), nullable=True),
        sa.Column("expires_at", hexagone.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", hexagone.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("revoked_by", sa.Uuid(), nullable=True),
        sa.Column("opened", sa.Integer(), nullable=False),
        sa.Column("downloads", sa.Integer(), nullable=False),
        sa.Column("uploads", sa.Integer(), nullable=False),
        sa.Column("last_used_at", hexagone.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", hexagone.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_drive_links_created_by_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["node_id"], ["drive_nodes.id"], name=op.f("fk_drive_links_node_id_drive_nodes"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organisations.id"], name=op.f("fk_drive_links_org_id_organisations"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["revoked_by"], ["users.id"], name=op.f("fk_drive_links_revoked_by_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_drive_links")),
        sa.UniqueConstraint("token_digest", name=op.f("uq_drive_links_token_digest")),
    )
    with op.batch_alter_table("drive_links", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_drive_links_node_id"), ["node_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_drive_links_org_id"), ["org_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("drive_links", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_drive_links_org_id"))
        batch_op.drop_index(batch_op.f("ix_drive_links_node_id"))
    op.drop_table("drive_links")
