"""The CPU cost of one signed-in request, measured in process, one request at a time: no
server, no network, no wrk. On a machine shared with other work, requests per second move
with the neighbours; CPU time per request barely does, so this is the figure to compare
before and after a change to the request path.

    .venv/bin/python bench/request_cost.py [--database sqlite|postgres] [--repeat 300]

It prints, for the session → principal resolution alone and for whole requests through
the ASGI application (httpx's in-process transport), the median and mean CPU and wall time.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx
from run import DEMO_PASSWORD, DEMO_USER, database, hexagone_env, prepare


async def timed(label: str, repeat: int, op: Callable[[], Awaitable[object]]) -> None:
    for _ in range(max(20, repeat // 10)):  # warm the caches: compiled SQL, templates, pools
        await op()
    cpu: list[float] = []
    wall: list[float] = []
    for _ in range(repeat):
        c, w = time.process_time(), time.perf_counter()
        await op()
        cpu.append(1000 * (time.process_time() - c))
        wall.append(1000 * (time.perf_counter() - w))
    print(
        f"  {label:34} CPU median {statistics.median(cpu):6.2f} ms  mean {statistics.fmean(cpu):6.2f} ms   "
        f"wall median {statistics.median(wall):6.2f} ms",
        flush=True,
    )


async def measure(repeat: int) -> None:
    from hexagone.app import create_app
    from hexagone.core import auth
    from hexagone.core.db import dispose_engine

    app = create_app()
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
        for path in ("/", "/api/v1/me"):
            assert (await client.get(path)).status_code == 200

        async def resolve() -> object:
            principal = await auth.principal_from_session_token(session)
            assert principal is not None
            return principal

        async def get(path: str) -> object:
            response = await client.get(path)
            assert response.status_code == 200
            return response

        await timed("session → principal", repeat, resolve)
        await timed("GET / (home page)", repeat, lambda: get("/"))
        await timed("GET /api/v1/me", repeat, lambda: get("/api/v1/me"))
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8000") as anonymous:
            await timed("GET /healthz (no session)", repeat, lambda: anonymous.get("/healthz"))
    await dispose_engine()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--database", default="sqlite", choices=["sqlite", "postgres"])
    p.add_argument("--repeat", type=int, default=300)
    p.add_argument("--pg-admin", default="postgresql://postgres@127.0.0.1:5432/postgres")
    args = p.parse_args()
    with tempfile.TemporaryDirectory(prefix="hexagone-cost-") as tmp, database(args.database, args.pg_admin) as db:
        env = hexagone_env(Path(tmp) / "data", db)
        prepare(env, Path(tmp) / "prepare.log")
        os.environ.update(env)
        print(f"{args.database}, {args.repeat} sequential requests each, load average {os.getloadavg()[0]:.1f}:")
        asyncio.run(measure(args.repeat))


if __name__ == "__main__":
    sys.exit(main())
