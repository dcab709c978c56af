"""Calendar objects say whether their whole span is short (``short_span``), and the range
index leads with it: a time-range REPORT then finds the short ones by a range of start
times instead of scanning every row that started before the range ends (issue #17's
benchmark targets).

Revision ID: 0009_calendar_short_spans
Revises: 0008_calendar_scheduling
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_calendar_short_spans"
down_revision = "0008_calendar_scheduling"
branch_labels = None
depends_on = None

# models.SHORT_SPAN, in days: a migration keeps the value it was written with.
SHORT_SPAN_DAYS = 9


def upgrade() -> None:
    with op.batch_alter_table("cal_objects", schema=None) as batch_op:
        batch_op.add_column(sa.Column("short_span", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.drop_index("ix_cal_objects_span")
        batch_op.create_index(
            "ix_cal_objects_range", ["collection_id", "short_span", "starts_at", "ends_at"], unique=False
        )
    if op.get_bind().dialect.name == "postgresql":
        within = f"ends_at - starts_at <= interval '{SHORT_SPAN_DAYS} days'"
    else:
        within = f"julianday(ends_at) - julianday(starts_at) <= {SHORT_SPAN_DAYS}"
    op.execute(
        f"UPDATE cal_objects SET short_span = true "  # noqa: S608 (constants only)
        f"WHERE starts_at IS NOT NULL AND ends_at IS NOT NULL AND {within}"
    )


def downgrade() -> None:
    with op.batch_alter_table("cal_objects", schema=None) as batch_op:
        batch_op.drop_index("ix_cal_objects_range")
        batch_op.create_index("ix_cal_objects_span", ["collection_id", "starts_at"], unique=False)
        batch_op.drop_column("short_span")
