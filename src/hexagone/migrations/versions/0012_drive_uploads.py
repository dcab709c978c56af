"""The drive's resumable (tus) uploads under way.

Revision ID: 0012_drive_uploads
Revises: 0011_drive_links
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import hexagone.core.db

revision = "0012_drive_uploads"
down_revision = "0011_drive_links"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "drive_uploads",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("folder_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("on_conflict", sa.String(length=16), nullable=False),
        sa.Column("version_id", sa.Uuid(), nullable=False),
        sa.Column("blob_upload", sa.String(length=64), nullable=False),
        sa.Column("length", sa.BigInteger(), nullable=False),
        sa.Column("offset", sa.BigInteger(), nullable=False),
        sa.Column("parts", sa.Text(), nullable=False),
        sa.Column("expires_at", hexagone.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", hexagone.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["folder_id"], ["drive_nodes.id"], name=op.f("fk_drive_uploads_folder_id_drive_nodes"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organisations.id"], name=op.f("fk_drive_uploads_org_id_organisations"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_drive_uploads_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_drive_uploads")),
    )
    with op.batch_alter_table("drive_uploads", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_drive_uploads_expires_at"), ["expires_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_drive_uploads_org_id"), ["org_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_drive_uploads_user_id"), ["user_id"], unique=False)


def downgrade() -> None:
    op.drop_table("drive_uploads")
