"""A drive node says whether its current version has a preview, so that a folder's
listing shows thumbnails without asking the blob store about each entry. Existing files
start without: the flag is set when their content is next read (a new version, a copy,
a restore).

Revision ID: 0014_drive_previews
Revises: 0013_calendar_schedule_tag
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014_drive_previews"
down_revision = "0013_calendar_schedule_tag"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("drive_nodes", schema=None) as batch_op:
        batch_op.add_column(sa.Column("has_preview", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("drive_nodes", schema=None) as batch_op:
        batch_op.drop_column("has_preview")
