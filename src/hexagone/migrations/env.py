"""Alembic environment: runs migrations over the async engine of either backend."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection

from hexagone.app import load_registry
from hexagone.core.config import get_settings
from hexagone.core.db import Base, null_pool_engine

load_registry()  # imports every installed module's models into Base.metadata
config = context.config
settings = config.attributes.get("settings") or get_settings()


def _include_name(name: str | None, type_: str, _parents: object) -> bool:
    """Leave out of autogenerate what migrations make by hand: the full-text index of
    mail (an FTS5 table and its shadow tables, hexagone/mail/fulltext.py)."""
    return not (type_ == "table" and (name or "").startswith("mail_messages_fts"))


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        include_name=_include_name,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _main() -> None:
    engine = null_pool_engine(settings)
    async with engine.connect() as connection:
        await connection.run_sync(_run)
    await engine.dispose()


asyncio.run(_main())
