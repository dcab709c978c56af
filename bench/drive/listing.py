"""A folder of 10,000 files listed through the drive's service (``list_folder``, the one
statement every way in uses: the web page, the API, WebDAV's PROPFIND Depth 1), in
process, on SQLite or PostgreSQL: p50, p99 and max over the rounds, the process' CPU
time per listing (every thread: the driver's too; steadier than the wall clock on a
shared machine), with the statements sent per listing, and the same rows read as ORM objects for comparison (what the service
avoids). Then the folder's web page (``/drive/folders/<id>``, signed in, through the
ASGI application in process: no server, no network), which shows a page of 200
entries: the first page, one in the middle, and the first sorted by size, newest first;
and the API's page of 200 entries.

    .venv/bin/python bench/drive/listing.py [--files 10000] [--rounds 30] [--database postgres]

It makes a temporary data directory (and, for PostgreSQL, a database beside the URL's,
dropped at the end), migrates, and inserts the files' rows directly (their content is
not what a listing reads).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
PG_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
EMAIL, PASSWORD = "b@bench.test", "Bench-password-123"


def _environment(database: str) -> tuple[str, str | None]:
    data = tempfile.mkdtemp(prefix="drive-bench-")
    os.environ["HEXAGONE_DATA_DIR"] = data
    os.environ.setdefault("HEXAGONE_SECRET_KEY", "bench-secret-key-not-for-production-0123456789")
    if database != "postgres":
        os.environ["HEXAGONE_DATABASE_URL"] = f"sqlite+aiosqlite:///{data}/bench.sqlite3"
        return data, None
    name = f"drive_bench_{os.getpid()}"
    os.environ["HEXAGONE_DATABASE_URL"] = PG_URL.rsplit("/", 1)[0] + "/" + name
    return data, name


async def _pg(statement: str) -> None:
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine(PG_URL, isolation_level="AUTOCOMMIT")
    async with engine.connect() as conn:
        await conn.execute(text(statement))
    await engine.dispose()


async def _fill(files: int) -> tuple[object, uuid.UUID]:
    from sqlalchemy import insert

    from hexagone.core.db import org_session, system_session, utcnow
    from hexagone.drive import service
    from hexagone.drive.models import Node
    from hexagone.identity.service import load_principal
    from hexagone.identity.service.orgs import create_org
    from hexagone.identity.service.users import create_user

    async with system_session() as db:
        org = await create_org(db, name="Bench", domain="bench.test", modules=["drive"])
        user, _ = await create_user(db, org_id=org.id, email=EMAIL, display_name="B", password=PASSWORD)
        await db.commit()
        me = await load_principal(db, user.id)
    assert me is not None
    async with org_session(me.org_id, write=True) as db:
        drive = await service.drive_of_user(db, me)
        folder = await service.create_folder(db, me, drive.root_id, "big")
        now = utcnow()
        rows = [
            {
                "id": uuid.uuid4(),
                "org_id": me.org_id,
                "drive_id": drive.id,
                "parent_id": folder.id,
                "kind": "file",
                "name": f"file-{n:05d}.txt",
                "name_key": f"file-{n:05d}.txt",
                "size": n,
                "etag": uuid.uuid4().hex,
                "content_type": "text/plain",
                "description": "",
                "created_by": me.user_id,
                "created_at": now,
                "modified_by": me.user_id,
                "modified_at": now,
            }
            for n in range(files)
        ]
        for start in range(0, files, 1000):
            await db.execute(insert(Node), rows[start : start + 1000])
        await db.commit()
    return me, folder.id


async def _measure(files: int, rounds: int) -> None:
    from sqlalchemy import event, select

    from hexagone.core.db import dispose_engine, engines, org_session
    from hexagone.drive import service
    from hexagone.drive.models import Node

    me, folder_id = await _fill(files)
    statements = 0

    def count(*_args: object) -> None:
        nonlocal statements
        statements += 1

    for engine in engines():
        event.listen(engine.sync_engine, "before_cursor_execute", count)

    async def listing() -> int:
        async with org_session(me.org_id) as db:  # type: ignore[attr-defined]
            return len((await service.list_folder(db, me, folder_id, limit=None)).entries)

    async def orm_rows() -> int:
        async with org_session(me.org_id) as db:  # type: ignore[attr-defined]
            return len((await db.execute(select(Node).where(Node.parent_id == folder_id))).scalars().all())

    async def timed(name: str, run: Callable[[], Awaitable[object]]) -> None:
        nonlocal statements
        await run()  # warm
        statements = 0
        times = []
        cpu_start = time.process_time()
        for _ in range(rounds):
            start = time.perf_counter()
            found = await run()
            times.append((time.perf_counter() - start) * 1000)
        cpu = (time.process_time() - cpu_start) * 1000 / rounds
        times.sort()
        p99 = times[min(len(times) - 1, int(len(times) * 0.99))]
        print(
            f"{name}: {found}, p50 {statistics.median(times):.1f} ms, p99 {p99:.1f} ms, "
            f"max {times[-1]:.1f} ms, CPU {cpu:.1f} ms, {statements / rounds:.0f} statements each"
        )

    await timed("service list_folder (entries)", listing)
    await timed("ORM objects, for comparison (entries)", orm_rows)
    async with _signed_in() as client:
        middle = max(1, files // 400)
        for label, path in (
            ("page /drive/folders/<id> (bytes)", f"/drive/folders/{folder_id}"),
            (f"page {middle} of the folder (bytes)", f"/drive/folders/{folder_id}?page={middle}"),
            ("page sorted by size, descending (bytes)", f"/drive/folders/{folder_id}?sort=size&desc=1"),
            ("API page of 200 entries (bytes)", f"/api/v1/drive/folders/{folder_id}/entries?limit=200"),
        ):

            async def page(path: str = path) -> int:
                answer = await client.get(path)
                assert answer.status_code == 200, answer.text[:500]
                return len(answer.content)

            await timed(label, page)
    await dispose_engine()


@asynccontextmanager
async def _signed_in() -> AsyncIterator[httpx.AsyncClient]:
    """A client of the application in process, signed in through the login form."""
    from hexagone.app import create_app

    transport = httpx.ASGITransport(app=create_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8000") as client:
        form = await client.get("/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
        assert token is not None
        data = {"email": EMAIL, "password": PASSWORD, "csrf_token": token.group(1), "next": "/"}
        assert (await client.post("/login", data=data)).status_code == 303
        yield client


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    args = parser.parse_args()
    _data, pg_name = _environment(args.database)
    if pg_name:
        asyncio.run(_pg(f'CREATE DATABASE "{pg_name}"'))
    try:
        subprocess.run([str(Path(sys.executable).parent / "hexagone"), "migrate"], check=True, capture_output=True)
        from hexagone.app import load_registry

        load_registry()
        print(f"load average: {os.getloadavg()[0]:.1f}")
        asyncio.run(_measure(args.files, args.rounds))
    finally:
        if pg_name:
            asyncio.run(_pg(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)'))


if __name__ == "__main__":
    main()
