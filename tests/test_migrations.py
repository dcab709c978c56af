"""Migrations carry an existing database's data over, on SQLite and on PostgreSQL: a
database made by an older release, holding data the new revision must transform, is
brought to the head and read back.

Each test gets a database of its own (an SQLite file, or a PostgreSQL database beside
the run's), filled by the demo seed at the head, taken down to the revision before the
one under test, given what that revision must carry over, and upgraded again. The
database at the head with the demo seed is made once per module and copied for each
test (the file and the data directory, or a PostgreSQL database made from it as a
template): the upgrade and the seed, each a process importing every module, cost most
of each test's time."""

from __future__ import annotations

import shutil
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import BigInteger, Boolean, Integer, String, Uuid, column, select, table, text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from hexagone.core.db import UTCDateTime
from tests.conftest import PG_ADMIN_URL, PG_DATABASE, ROOT, _postgres_admin, hexagone_command, server_env

GRANTS = table(  # mail_grants as revision 0002 has it
    "mail_grants",
    *(column(name, Uuid()) for name in ("id", "org_id", "mailbox_id", "user_id")),
    column("can_write", Boolean()),
    column("can_send_as", Boolean()),
)
COLLECTIONS = table(  # cal_collections as revision 0007 has it
    "cal_collections",
    *(column(name, Uuid()) for name in ("id", "org_id")),
    *(column(name, String()) for name in ("kind", "purpose", "slug", "name", "description", "color", "timezone")),
    *(column(name, String()) for name in ("components", "address", "resource_kind", "subscription_url")),
    column("sync_seq", BigInteger()),
    *(column(name, UTCDateTime()) for name in ("created_at", "updated_at")),
)
OBJECTS = table(  # cal_objects as revision 0007 has it
    "cal_objects",
    *(column(name, Uuid()) for name in ("id", "org_id", "collection_id")),
    *(column(name, String()) for name in ("name", "uid", "component", "data", "etag", "title", "emails")),
    column("seq", BigInteger()),
    column("size", Integer()),
    *(column(name, UTCDateTime()) for name in ("starts_at", "ends_at", "updated_at")),
    *(column(name, Boolean()) for name in ("recurring", "floating")),
)


def url_of(database: str) -> str:
    """The URL of a PostgreSQL database beside the run's."""
    return PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + database


@pytest.fixture(scope="module")
def seeded_head(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """A database at the head filled by the demo seed, and its data directory: what every
    test starts from, made once (:func:`seeded`); no test writes to it."""
    data_dir = tmp_path_factory.mktemp("seeded-head")
    if not PG_ADMIN_URL:
        url = f"sqlite+aiosqlite:///{data_dir / 'migrations.sqlite3'}"
        seeded(url, data_dir)
        yield url, data_dir
        return
    name = f"{PG_DATABASE}_seeded_head"
    _postgres_admin(f'CREATE DATABASE "{name}"')
    try:
        seeded(url_of(name), data_dir)
        yield url_of(name), data_dir
    finally:
        _postgres_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def database_url(seeded_head: tuple[str, Path], tmp_path: Path) -> Iterator[str]:
    """A copy of :func:`seeded_head` of the test's own, its data directory ``tmp_path``."""
    head_url, head_dir = seeded_head
    shutil.copytree(head_dir, tmp_path, dirs_exist_ok=True)
    if not PG_ADMIN_URL:
        yield f"sqlite+aiosqlite:///{tmp_path / 'migrations.sqlite3'}"
        return
    name = f"{PG_DATABASE}_migrations"
    _postgres_admin(f'CREATE DATABASE "{name}" TEMPLATE "{head_url.rsplit("/", 1)[1]}"')
    try:
        yield url_of(name)
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


def seeded(database_url: str, data_dir: Path) -> None:
    """An empty database upgraded to the head, then filled by the demo seed."""
    alembic(database_url, data_dir, "upgrade", "head")
    seed_demo(database_url, data_dir)


def seeded_at(database_url: str, data_dir: Path, revision: str) -> None:
    """The database of the test (the demo seed at the head) taken down to ``revision``."""
    alembic(database_url, data_dir, "downgrade", revision)


async def test_migration_0003_makes_subscriptions_of_owners_and_of_grantees(
    database_url: str, engine: AsyncEngine, tmp_path: Path
) -> None:
    seeded_at(database_url, tmp_path, "0002_mail_fulltext")
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
    async with engine.connect() as conn:
        names = set((await conn.execute(text("SELECT name FROM drive_nodes WHERE parent_id IS NOT NULL"))).scalars())
    assert {"Documents", "Bienvenue.txt", "Compte rendu de lancement.txt"} <= names
    alembic(database_url, tmp_path, "downgrade", "0010_drive-1")  # the one before the drive
    alembic(database_url, tmp_path, "upgrade", "head")
    async with engine.connect() as conn:
        assert (await conn.execute(text("SELECT count(*) FROM drive_nodes"))).scalar() == 0


async def _calendar_with(engine: AsyncEngine, rows: list[dict[str, object]], when: datetime) -> uuid.UUID:
    """A calendar of the first organisation holding ``rows`` (name, etag, data and the
    span columns, as revision 0007 stores objects); its id."""
    async with engine.begin() as conn:
        org_id = uuid.UUID(str((await conn.execute(text("SELECT id FROM organisations LIMIT 1"))).scalar_one()))
        collection_id = uuid.uuid4()
        await conn.execute(
            COLLECTIONS.insert().values(
                id=collection_id, org_id=org_id, kind="calendar", purpose="personal", slug="migrated",
                name="Migrated", description="", color="#3465a4", timezone="UTC", components="VEVENT",
                address="", resource_kind="", subscription_url="", sync_seq=len(rows),
                created_at=when, updated_at=when,
            )
        )  # fmt: skip
        for seq, row in enumerate(rows, start=1):
            data = str(row["data"])
            await conn.execute(
                OBJECTS.insert().values(
                    id=uuid.uuid4(), org_id=org_id, collection_id=collection_id, uid=row["name"],
                    component="VEVENT", seq=seq, size=len(data), recurring=False, floating=False,
                    title="", emails="", updated_at=when, **{"starts_at": None, "ends_at": None, **row},
                )
            )  # fmt: skip
    return collection_id


async def test_migration_0009_marks_the_objects_whose_span_is_short(
    database_url: str, engine: AsyncEngine, tmp_path: Path
) -> None:
    seeded_at(database_url, tmp_path, "0007_calendar")
    when = datetime(2027, 3, 1, 9, tzinfo=UTC)
    spans = {  # name: (starts_at, ends_at), as revision 0007 stores them
        "hour.ics": (when, when + timedelta(hours=1)),
        "nine-days.ics": (when, when + timedelta(days=9)),
        "month.ics": (when, when + timedelta(days=31)),
        "endless.ics": (when, None),
        "undated.ics": (None, None),
    }
    rows = [
        {"name": name, "etag": name, "data": "", "starts_at": starts_at, "ends_at": ends_at}
        for name, (starts_at, ends_at) in spans.items()
    ]
    collection_id = await _calendar_with(engine, rows, when)
    alembic(database_url, tmp_path, "upgrade", "0009_calendar_short_spans")
    async with engine.connect() as conn:
        found = (
            await conn.execute(
                select(OBJECTS.c.name, column("short_span", Boolean())).where(OBJECTS.c.collection_id == collection_id)
            )
        ).all()
    assert {name for name, short in found if short} == {"hour.ics", "nine-days.ics"}
    assert len(found) == len(spans)


async def test_migration_0013_gives_scheduling_objects_their_etag_as_schedule_tag(
    database_url: str, engine: AsyncEngine, tmp_path: Path
) -> None:
    seeded_at(database_url, tmp_path, "0012_drive_uploads")
    when = datetime(2027, 3, 1, 9, tzinfo=UTC)
    texts = {  # name: text, as a client stored it
        "meeting.ics": "BEGIN:VEVENT\r\nORGANIZER:mailto:a@x.test\r\nATTENDEE:mailto:b@x.test\r\nEND:VEVENT\r\n",
        "alone.ics": "BEGIN:VEVENT\r\nORGANIZER:mailto:a@x.test\r\nEND:VEVENT\r\n",
        "plain.ics": "BEGIN:VEVENT\r\nSUMMARY:Seul\r\nEND:VEVENT\r\n",
    }
    rows = [{"name": name, "etag": f"etag-{seq}", "data": data} for seq, (name, data) in enumerate(texts.items(), 1)]
    collection_id = await _calendar_with(engine, rows, when)
    alembic(database_url, tmp_path, "upgrade", "0013_calendar_schedule_tag")
    async with engine.connect() as conn:
        found = (
            await conn.execute(
                select(OBJECTS.c.name, column("schedule_tag", String())).where(OBJECTS.c.collection_id == collection_id)
            )
        ).all()
    assert dict(found) == {"meeting.ics": "etag-1", "alone.ics": "", "plain.ics": ""}
