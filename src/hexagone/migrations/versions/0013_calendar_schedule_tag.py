"""Calendar objects keep a schedule tag (RFC 6638 3.2.10, ``Schedule-Tag``), which changes
only with the changes that matter to scheduling. Existing scheduling object resources (an
ORGANIZER and an ATTENDEE in their text) start with their ETag; the others have none.

Revision ID: 0013_calendar_schedule_tag
Revises: 0012_drive_uploads
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013_calendar_schedule_tag"
down_revision = "0012_drive_uploads"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("cal_objects", schema=None) as batch_op:
        batch_op.add_column(sa.Column("schedule_tag", sa.String(length=64), nullable=False, server_default=""))
    op.execute(
        "UPDATE cal_objects SET schedule_tag = etag "
        "WHERE component <> 'VCARD' AND data LIKE '%ORGANIZER%' AND data LIKE '%ATTENDEE%'"
    )


def downgrade() -> None:
    with op.batch_alter_table("cal_objects", schema=None) as batch_op:
        batch_op.drop_column("schedule_tag")
