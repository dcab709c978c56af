"""Rows that revisions write into tables (``versions/`` imports this, nothing else does).

A revision is history: once applied somewhere, what it does must never change. So a
function here keeps its meaning for good once a revision calls it (a fix is a new
function, for the revisions written after it), and nothing here imports application
code (models, services), which changes with the product. Tables are named with the
columns and types they have at the revision, not as the models say now.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from typing import Any

import sqlalchemy as sa
from alembic import op


def insert(table: str, columns: Mapping[str, sa.types.TypeEngine[Any]], rows: Iterable[Mapping[str, object]]) -> None:
    """Insert ``rows`` into ``table``, whose ``columns`` are those written with their
    types; nothing when there is no row.

    A value of a ``Uuid`` column is made a :class:`uuid.UUID`: raw SQL gives UUIDs as hex
    strings on SQLite and as UUIDs on PostgreSQL, and the column wants UUIDs (0003 once
    failed on SQLite for want of this)."""
    uuids = {name for name, kind in columns.items() if isinstance(kind, sa.Uuid)}
    values = [
        {name: uuid.UUID(str(value)) if name in uuids and value is not None else value for name, value in row.items()}
        for row in rows
    ]
    if values:
        op.bulk_insert(sa.table(table, *(sa.column(name, kind) for name, kind in columns.items())), values)
