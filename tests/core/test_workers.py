"""``hexagone serve`` with several worker processes on one database (SQLite in WAL mode by
default): concurrent reads and writes spread over the workers all succeed, and a change
made anywhere reaches every worker's principal cache on the very next request."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from hexagone.core.config import Settings
from hexagone.core.db import org_session
from hexagone.identity.models import OrgRole
from hexagone.identity.service import users
from tests.conftest import Server
from tests.factories import csrf_token, login, make_org, make_user, principal

WORKERS = 2


@pytest.fixture(scope="module")
def two_workers(start_server: Callable[..., Server]) -> Server:
    return start_server(HEXAGONE_WORKERS=str(WORKERS))


def worker_processes(server: Server) -> list[int]:
    children = Path(f"/proc/{server.process.pid}/task/{server.process.pid}/children").read_text().split()
    return [int(pid) for pid in children]


def test_workers_default_to_one_per_core_only_when_the_bus_crosses_processes() -> None:
    assert Settings(workers=0, pubsub_url="memory://").resolved_workers == 1
    assert Settings(workers=0, pubsub_url="redis://127.0.0.1:6379/0").resolved_workers >= 1
    assert Settings(workers=3, pubsub_url="memory://").resolved_workers == 3


async def test_concurrent_writes_and_reads_across_workers_all_succeed(two_workers: Server) -> None:
    assert len(worker_processes(two_workers)) >= WORKERS
    org = await make_org()
    people = [await make_user(org) for _ in range(4)]
    browsers = [httpx.AsyncClient(base_url=two_workers.base_url, timeout=60) for _ in people]
    try:
        for browser, person in zip(browsers, people, strict=True):
            await login(browser, person)
        tokens = [await csrf_token(browser, "/account") for browser in browsers]

        async def work(browser: httpx.AsyncClient, token: str, n: int) -> list[int]:
            statuses = []
            for i in range(n):
                saved = await browser.post(
                    "/account", data={"display_name": f"Name {i}", "locale": "fr", "csrf_token": token}
                )
                statuses += [saved.status_code, (await browser.get("/")).status_code]
                statuses.append((await browser.get("/api/v1/me")).status_code)
            return statuses

        answers = await asyncio.gather(*(work(b, t, 8) for b, t in zip(browsers, tokens, strict=True)))
        assert {s for statuses in answers for s in statuses} == {200, 303}
        for browser in browsers:
            assert (await browser.get("/api/v1/me")).json()["name"] == "Name 7"
    finally:
        for browser in browsers:
            await browser.aclose()


async def test_disabling_a_user_refuses_them_in_every_worker_on_the_next_request(two_workers: Server) -> None:
    org = await make_org()
    admin, user = await make_user(org, role=OrgRole.ADMIN), await make_user(org)
    async with httpx.AsyncClient(base_url=two_workers.base_url, timeout=60) as browser:
        await login(browser, user)
        # enough requests, some of them concurrent, for both workers to cache the principal
        for _ in range(5):
            statuses = await asyncio.gather(*(browser.get("/") for _ in range(4)))
            assert {r.status_code for r in statuses} == {200}
        async with org_session(org.id) as db:
            await users.set_active(db, await principal(admin), user.id, False)
            await db.commit()
        answers = await asyncio.gather(*(browser.get("/") for _ in range(8)))
        assert {(r.status_code, r.headers.get("location", "")[:6]) for r in answers} == {(303, "/login")}
