"""The second yardstick: what a typical small FastAPI application does for one signed-in
request, one ``SELECT`` of a user row by id through aiosqlite, answered with a Pydantic
model. Served by uvicorn (``serve_bare.py uvicorn PORT WORKERS fastapi_app``), as such an
application usually is.

The database is a SQLite file in WAL mode with a thousand users, made on first start in
``$BENCH_FASTAPI_DB`` (default: a file in the temporary directory). Each worker keeps one
aiosqlite connection for its lifetime, as a small application with a module-level
connection or a pool of one would: that is the cheaper way, so the yardstick is the harder one.

``GET /users/{id}`` answers the row as JSON, ``GET /`` an HTML page naming the user:
the same two kinds of answer as Hexagone's API and pages.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import tempfile
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import aiosqlite
from fastapi import FastAPI, HTTPException
from fastapi.responses import HTMLResponse
from pydantic import BaseModel

USERS = 1000
# The row every request asks for: a fixed id, as wrk asks one URL.
USER_ID = str(uuid.UUID(int=USERS // 2))
DB_PATH = Path(os.environ.get("BENCH_FASTAPI_DB", Path(tempfile.gettempdir()) / "bench-fastapi-users.sqlite3"))


class UserOut(BaseModel):
    id: uuid.UUID
    email: str
    name: str
    role: str
    locale: str | None


def make_database(path: Path) -> None:
    """The users table, written once (several workers may start together: the first wins)."""
    with contextlib.closing(sqlite3.connect(path, timeout=30)) as db:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute(
            "CREATE TABLE IF NOT EXISTS users (id TEXT PRIMARY KEY, email TEXT NOT NULL, "
            "name TEXT NOT NULL, role TEXT NOT NULL, locale TEXT)"
        )
        db.executemany(
            "INSERT OR IGNORE INTO users VALUES (?, ?, ?, ?, ?)",
            [(str(uuid.UUID(int=i)), f"user{i}@example.test", f"User {i}", "user", "fr") for i in range(USERS)],
        )
        db.commit()


def create_app() -> FastAPI:
    connection: aiosqlite.Connection | None = None

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        nonlocal connection
        make_database(DB_PATH)
        connection = await aiosqlite.connect(DB_PATH)
        connection.row_factory = aiosqlite.Row
        yield
        await connection.close()

    app = FastAPI(lifespan=lifespan)

    async def user(user_id: uuid.UUID) -> UserOut:
        assert connection is not None
        async with connection.execute(
            "SELECT id, email, name, role, locale FROM users WHERE id = ?", (str(user_id),)
        ) as cursor:
            row = await cursor.fetchone()
        if row is None:
            raise HTTPException(404, "no such user")
        return UserOut(**dict(row))

    @app.get("/users/{user_id}", response_model=UserOut)
    async def read_user(user_id: uuid.UUID) -> UserOut:
        return await user(user_id)

    @app.get("/", response_class=HTMLResponse)
    async def page() -> str:
        found = await user(uuid.UUID(USER_ID))
        return f"<!doctype html><html lang=en><head><title>Home</title></head><body><h1>Hello {found.name}</h1></body></html>"

    return app
