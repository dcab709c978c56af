"""Migrations carry an existing database's data over, on SQLite and on PostgreSQL: a
database made by an older release, holding data the new revision must transform, is
brought to the head and read back.

Each test gets a database of its own (an SQLite file, or a PostgreSQL database beside
the run's), filled by the demo seed at the head, taken down to the revision before the
one under test, given what that revision must carry over, and upgraded again."""

from __future__ import annotations

import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy import Boolean, Uuid, column, table, text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from tests.conftest import PG_ADMIN_URL, PG_DATABASE, ROOT, _postgres_admin, hexagone_command, server_env

GRANTS = table(  # mail_grants as revision 0002 has it
    "mail_grants",
    *(column(name, Uuid()) for name in ("id", "org_id", "mailbox_id", "user_id")),
    column("can_write", Boolean()),
    column("can_send_as", Boolean()),
)


@pytest.fixture
def database_url(tmp_path: Path) -> Iterator[str]:
    if not PG_ADMIN_URL:
        yield f"sqlite+aiosqlite:///{tmp_path / 'migrations.sqlite3'}"
        return
    name = f"{PG_DATABASE}_migrations"
    _postgres_admin(f'CREATE DATABASE "{name}"')
    try:
        yield PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    finally:
        _postgres_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_async_engine(database_url)
    yield engine
    await engine.dispose()


def alembic(database_url: str, data_dir: Path, action: str, revision: str) -> None:
    code = (
        "from alembic import command; from hexagone.core.config import get_settings; "
        "from hexagone.migrations import alembic_config; "
        f"command.{action}(alembic_config(get_settings()), {revision!r})"
    )
    env = server_env(HEXAGONE_DATABASE_URL=database_url, HEXAGONE_DATA_DIR=str(data_dir))
    done = subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:]


def seed_demo(database_url: str, data_dir: Path) -> None:
    env = server_env(HEXAGONE_DATABASE_URL=database_url, HEXAGONE_DATA_DIR=str(data_dir), HEXAGONE_MODULES="")
    done = subprocess.run(hexagone_command("demo"), env=env, cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:]


async def test_migration_0003_makes_subscriptions_of_owners_and_of_grantees(
    database_url: str, engine: AsyncEngine, tmp_path: Path
) -> None:
    alembic(database_url, tmp_path, "upgrade", "head")
    seed_demo(database_url, tmp_path)
    alembic(database_url, tmp_path, "downgrade", "0002_mail_fulltext")
    async with engine.begin() as conn:
        mailbox = (await conn.execute(text("SELECT id, org_id, address FROM mail_mailboxes LIMIT 1"))).one()
        grantee = (
            await conn.execute(
                text(
                    "SELECT id FROM users WHERE org_id = :org AND id NOT IN (SELECT user_id FROM mail_mailboxes "
                    "WHERE id = :mailbox AND user_id IS NOT NULL) LIMIT 1"
                ),
                {"org": mailbox.org_id, "mailbox": mailbox.id},
            )
        ).scalar_one()
        await conn.execute(
            GRANTS.insert().values(
                id=uuid.uuid4(),
                org_id=uuid.UUID(str(mailbox.org_id)),
                mailbox_id=uuid.UUID(str(mailbox.id)),
                user_id=uuid.UUID(str(grantee)),
                can_write=False,
                can_send_as=False,
            )
        )
        await conn.execute(text("UPDATE mail_folders SET subscribed = :no"), {"no": False})
        await conn.execute(
            text("UPDATE mail_folders SET subscribed = :yes WHERE mailbox_id = :mailbox AND name = 'INBOX'"),
            {"yes": True, "mailbox": mailbox.id},
        )
    alembic(database_url, tmp_path, "upgrade", "0003_mail_trust")
    async with engine.connect() as conn:
        rows = (await conn.execute(text("SELECT user_id, name FROM mail_subscriptions"))).all()
        owner = (
            await conn.execute(text("SELECT user_id FROM mail_mailboxes WHERE id = :id"), {"id": mailbox.id})
        ).scalar()
    names = {(str(user_id).replace("-", ""), name) for user_id, name in rows}
    expected = {(str(grantee).replace("-", ""), f"Shared/{mailbox.address}/INBOX")}
    if owner is not None:
        expected.add((str(owner).replace("-", ""), "INBOX"))
    assert names == expected


async def test_migration_0010_drive_goes_down_and_up_again_with_the_demo_files(
    database_url: str, engine: AsyncEngine, tmp_path: Path
) -> None:
    alembic(database_url, tmp_path, "upgrade", "head")
    seed_demo(database_url, tmp_path)
    async with engine.connect() as conn:
        names = set((await conn.execute(text("SELECT name FROM drive_nodes WHERE parent_id IS NOT NULL"))).scalars())
    assert {"Documents", "Bienvenue.txt", "Compte rendu de lancement.txt"} <= names
    alembic(database_url, tmp_path, "downgrade", "0010_drive-1")  # the one before the drive
    alembic(database_url, tmp_path, "upgrade", "head")
    async with engine.connect() as conn:
        assert (await conn.execute(text("SELECT count(*) FROM drive_nodes"))).scalar() == 0
