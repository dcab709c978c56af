"""The CPU cost of one signed-in request, measured in process, one request at a time: no
server, no network, no wrk. On a machine shared with other work, requests per second move
with the neighbours; CPU time per request barely does, so this is the figure to compare
before and after a change to the request path.

    .venv/bin/python bench/request_cost.py [--database sqlite|postgres] [--repeat 300] [--profile]

It prints, for the session → principal resolution alone and for whole requests through
the ASGI application (httpx's in-process transport: the shell page, the webmail's inbox
list, ``/api/v1/me``), the median and mean CPU and wall time and the SQL statements each
request runs. ``--profile`` adds cProfile's own time of each request's functions, split
by layer (:mod:`profile_split`), and the functions that take the most.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
import pstats
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx
from profile_split import layer_of_file
from run import DEMO_PASSWORD, DEMO_USER, database, hexagone_env, prepare
from sqlalchemy import event

statements = 0  # SQL statements sent to the database so far


def count_statements(*_args: object) -> None:
    global statements
    statements += 1


async def timed(label: str, repeat: int, op: Callable[[], Awaitable[object]], profile: bool = False) -> None:
    for _ in range(max(20, repeat // 10)):  # warm the caches: compiled SQL, templates, pools
        await op()
    cpu: list[float] = []
    wall: list[float] = []
    before = statements
    for _ in range(repeat):
        c, w = time.process_time(), time.perf_counter()
        await op()
        cpu.append(1000 * (time.process_time() - c))
        wall.append(1000 * (time.perf_counter() - w))
    print(
        f"  {label:34} CPU median {statistics.median(cpu):6.2f} ms  mean {statistics.fmean(cpu):6.2f} ms   "
        f"wall median {statistics.median(wall):6.2f} ms   SQL statements {(statements - before) / repeat:4.1f}",
        flush=True,
    )
    if profile:
        profiler = cProfile.Profile(time.process_time)  # CPU, not the waits for the driver's thread
        profiler.enable()
        for _ in range(repeat):
            await op()
        profiler.disable()
        print_profile(pstats.Stats(profiler), repeat)


def print_profile(stats: pstats.Stats, repeat: int) -> None:
    """Own CPU time per layer, then the functions with the most own time (per request, ms).
    cProfile follows the event loop's thread only; the CPU the driver's thread uses (and
    the kernel's work for the wake-ups) lands on whatever the loop was running meanwhile,
    mostly its wait for I/O (``select.epoll.poll``)."""
    by_layer: dict[str, float] = {}
    rows = []
    total = 0.0
    calls = 0
    for (path, line, name), (_cc, nc, own, _cum, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        total += own
        calls += nc
        layer = layer_of_file(path)
        by_layer[layer] = by_layer.get(layer, 0.0) + own
        rows.append((own, f"{name} ({path.split('site-packages/')[-1].split('src/')[-1]}:{line})"))
    # Function calls do not move with the machine's load as times do: the figure to compare
    # before and after a change on a shared machine.
    print(f"    Python function calls a request: {calls / repeat:,.0f}")
    print(f"    own time by layer (cProfile, event loop thread, {1000 * total / repeat:.2f} ms a request):")
    for layer, own in sorted(by_layer.items(), key=lambda x: -x[1]):
        print(f"      {100 * own / total:5.1f}%  {layer}")
    print("    functions with the most own time:")
    for own, where in sorted(rows, reverse=True)[:15]:
        print(f"      {1000 * own / repeat:6.3f} ms  {where}")


async def measure(repeat: int, profile: bool) -> None:
    from hexagone.app import create_app
    from hexagone.core import auth
    from hexagone.core.db import dispose_engine, engines

    app = create_app()
    for engine in engines():
        event.listen(engine.sync_engine, "before_cursor_execute", count_statements)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8000") as client:
        page = await client.get("/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert token is not None
        r = await client.post(
            "/login", data={"email": DEMO_USER, "password": DEMO_PASSWORD, "csrf_token": token.group(1), "next": "/"}
        )
        assert r.status_code == 303, r.text
        session = client.cookies["hx_session"]
        mail = await client.get("/mail/")
        assert mail.status_code == 303, mail.text
        inbox = mail.headers["location"]
        for path in ("/", inbox, "/api/v1/me"):
            assert (await client.get(path)).status_code == 200

        async def resolve() -> object:
            principal = await auth.principal_from_session_token(session)
            assert principal is not None
            return principal

        async def get(path: str) -> object:
            response = await client.get(path)
            assert response.status_code == 200
            return response

        csrf = re.search(r'name="csrf_token" value="([^"]+)"', (await client.get("/")).text)
        assert csrf is not None

        async def send() -> object:
            """A short message to a colleague of the organisation, as the users benchmark sends."""
            body = {"to": ["carol@demo.hexagone.test"], "subject": "Point", "text": "Bonjour,\n\nVoici le point.\n"}
            response = await client.post("/api/v1/mail/send", json=body, headers={"X-CSRF-Token": csrf.group(1)})
            assert response.status_code < 300, response.text
            return response

        await timed("session → principal", repeat, resolve, profile)
        await timed("GET / (home page)", repeat, lambda: get("/"), profile)
        await timed("GET webmail inbox list", repeat, lambda: get(inbox), profile)
        await timed("GET /api/v1/me", repeat, lambda: get("/api/v1/me"), profile)
        await timed("POST /api/v1/mail/send (a colleague)", max(20, repeat // 5), send, profile)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8000") as anonymous:
            await timed("GET /healthz (no session)", repeat, lambda: anonymous.get("/healthz"), profile)
    await dispose_engine()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--database", default="sqlite", choices=["sqlite", "postgres"])
    p.add_argument("--repeat", type=int, default=300)
    p.add_argument("--profile", action="store_true", help="cProfile each measure once more, split by layer")
    p.add_argument(
        "--stock-sqlite-driver",
        action="store_true",
        help="SQLAlchemy's own aiosqlite adapter (four thread hops a statement), for a before/after",
    )
    p.add_argument("--pg-admin", default="postgresql://postgres@127.0.0.1:5432/postgres")
    args = p.parse_args()
    with tempfile.TemporaryDirectory(prefix="hexagone-cost-") as tmp, database(args.database, args.pg_admin) as db:
        env = hexagone_env(Path(tmp) / "data", db)
        prepare(env, Path(tmp) / "prepare.log")
        os.environ.update(env)
        if args.stock_sqlite_driver:
            import sqlite3

            import aiosqlite
            from sqlalchemy.dialects.sqlite.aiosqlite import AsyncAdapt_aiosqlite_dbapi

            from hexagone.core import sqlite_driver

            sqlite_driver.dbapi = lambda: AsyncAdapt_aiosqlite_dbapi(aiosqlite, sqlite3)  # type: ignore[assignment,return-value]
        print(f"{args.database}, {args.repeat} sequential requests each, load average {os.getloadavg()[0]:.1f}:")
        asyncio.run(measure(args.repeat, args.profile))


if __name__ == "__main__":
    sys.exit(main())
