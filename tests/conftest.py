"""The test harness: a real server process on a real database (SQLite by default,
PostgreSQL when ``HEXAGONE_TEST_DATABASE_URL`` is set), reached over HTTP.

The test process shares the server's database and settings, so factories create data
through the service layer and tests observe it through the protocols.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.core.seaweed import SeaweedS3, blob_environment, shared
from tests.ports import LIVE_PORTS, free_port

# The mail peers (a DNS server, the outside recipients' mail server) for every test that
# sends mail beyond the organisation: SMTP's and the calendar's invitations; the browser
# (one chromium per test process) for every test that drives one, in whichever folder.
pytest_plugins = ["tests.mail.smtp.peers", "tests.browser.fixtures"]

ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = Path(tempfile.mkdtemp(prefix="hexagone-test-"))
# On PostgreSQL each run gets its own database, created beside the one the URL names, so
# that several runs (developers, CI) can share one server without dropping each other's data.
PG_ADMIN_URL = os.environ.get("HEXAGONE_TEST_DATABASE_URL", "")
PG_DATABASE = f"hexagone_test_{os.getpid()}_{DATA_DIR.name[-8:].lower()}"
DATABASE_URL = (
    PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + PG_DATABASE
    if PG_ADMIN_URL
    else f"sqlite+aiosqlite:///{DATA_DIR / 'test.sqlite3'}"
)

# Set before anything imports hexagone: settings are read once per process.
TEST_ENV = {
    "HEXAGONE_DATA_DIR": str(DATA_DIR),
    "HEXAGONE_DATABASE_URL": DATABASE_URL,
    "HEXAGONE_SECRET_KEY": "test-secret-key-not-for-production-0123456789",
    "HEXAGONE_MODULES": "tests.sample_module",
    "HEXAGONE_LOGIN_MAX_FAILURES_PER_IP": "100000",
    "HEXAGONE_LOGIN_MAX_FAILURES_PER_ACCOUNT": "5",
    "HEXAGONE_DEMO_PASSWORD": "Demo-password-for-tests",
    "HEXAGONE_LOG_LEVEL": "warning",
    # Many servers share one PostgreSQL (max_connections 100) during a run, and those a
    # session starts stay up to its end: each keeps 2 idle connections, not the default 10
    # (at 5, the connections climbed to the server's 100 in the run's last minute).
    "HEXAGONE_DATABASE_POOL_SIZE": "2",
    "HEXAGONE_DATABASE_MAX_OVERFLOW": "10",
    # argon2id at its cheapest: every user a test creates and every sign-in costs a hash,
    # which at the production cost (64 MiB, 3 passes) was most of the suite's time. The
    # timing tests of sign-in start a server of their own at the production cost.
    "HEXAGONE_PASSWORD_HASH_TIME_COST": "1",
    "HEXAGONE_PASSWORD_HASH_MEMORY_KIB": "8",
    "HEXAGONE_PASSWORD_HASH_PARALLELISM": "1",
    # A chat socket whose sign-in ended closes within this (60 s in production).
    "HEXAGONE_WEBSOCKET_RECHECK_SECONDS": "1",
}
os.environ.update(TEST_ENV)
sys.path.insert(0, str(ROOT))

# The blob backend of the test process and its servers: the local folder by default;
# `HEXAGONE_TEST_BLOB_BACKEND=s3` (or file+encrypted, s3+encrypted) runs the chosen tests
# on another (`make test-s3` runs the drive's so). tests/core/test_blobs.py runs on all four.
BLOB_BACKEND = os.environ.get("HEXAGONE_TEST_BLOB_BACKEND", "file")


def pytest_configure(config: pytest.Config) -> None:
    """Apply :data:`BLOB_BACKEND` before any test reads the settings; under ``pytest -n``
    in each worker, not in the process that only hands out the tests."""
    if BLOB_BACKEND == "file" or (config.getoption("numprocesses", None) and "PYTEST_XDIST_WORKER" not in os.environ):
        return
    TEST_ENV.update(blob_environment(BLOB_BACKEND, DATA_DIR, prefix=f"run-{DATA_DIR.name}"))
    os.environ.update(TEST_ENV)


def _postgres_admin(statement: str) -> None:
    import asyncio

    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine

    async def run() -> None:
        engine = create_async_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        async with engine.connect() as conn:
            await conn.execute(text(statement))
        await engine.dispose()

    asyncio.run(run())


def hexagone_command(*args: str) -> list[str]:
    return [str(Path(sys.executable).parent / "hexagone"), *args]


def server_env(**overrides: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(TEST_ENV)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env.update(overrides)
    return env


class Server:
    """A ``hexagone serve`` process on a free port: started by the constructor, ready
    after :meth:`wait_ready` (so that several start side by side)."""

    def __init__(self, **env: str):
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.log = DATA_DIR / f"server-{self.port}.log"
        env.setdefault("HEXAGONE_BASE_URL", self.base_url)
        # Each server has its own mail listeners, so that several can run side by side.
        self.imap_port = int(env.setdefault("HEXAGONE_IMAP_PORT", str(free_port())))
        self.smtp_port = int(env.setdefault("HEXAGONE_SMTP_PORT", str(free_port())))
        self.submission_port = int(env.setdefault("HEXAGONE_SUBMISSION_PORT", str(free_port())))
        self.managesieve_port = int(env.setdefault("HEXAGONE_MANAGESIEVE_PORT", str(free_port())))
        self.live_port = int(env.setdefault("HEXAGONE_LIVE_PORT", str(free_port())))
        LIVE_PORTS[self.base_url] = self.live_port
        self.process = subprocess.Popen(
            hexagone_command("serve", "--port", str(self.port)),
            env=server_env(**env),
            cwd=ROOT,
            stdout=self.log.open("wb"),
            stderr=subprocess.STDOUT,
        )

    def wait_ready(self) -> Server:
        # Generous: a loaded 2-core machine has taken over 30 s to import and start one.
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited: {self.log.read_text()[-2000:]}")
            try:
                if httpx.get(self.base_url + "/readyz", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"server did not become ready: {self.log.read_text()[-2000:]}")

    def stop(self) -> None:
        stop([self])


def stop(servers: list[Server]) -> None:
    """Ask every server to stop, then wait for each: their shutdowns overlap."""
    for srv in servers:
        srv.process.terminate()
    for srv in servers:
        try:
            srv.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            srv.process.kill()


# Under ``pytest -n`` (``--dist load``) the tests go in runs to whichever worker is free,
# and each worker builds the session and module fixtures of the tests it gets. The tests
# under each of these prefixes of node ids share a fixture that costs a minute: they go
# together to one worker. (Modules whose module-scoped fixtures start a server gained
# nothing measurable as groups: they lose the second worker's help.)
XDIST_GROUPS = (
    "tests/mail/imap/differential/",  # a Dovecot, and the same messages appended to it and to us
    "tests/core/test_blobs.py",  # a SeaweedFS (3 to 4 s to start): one worker starts it, not each
)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """pytest-xdist's ``load`` scheduling, but the first test of a group sent to a worker
    takes the rest of its group along (:data:`XDIST_GROUPS`). Any other ``--dist`` is left
    to pytest-xdist."""
    if config.getoption("dist") != "load":
        return None
    from xdist.scheduler import LoadScheduling

    class GroupScheduling(LoadScheduling):
        def _group(self, index: int) -> str | None:
            assert self.collection is not None
            return next((prefix for prefix in XDIST_GROUPS if self.collection[index].startswith(prefix)), None)

        def _send_tests(self, node: Any, num: int) -> None:
            chosen = self.pending[:num]
            groups = {self._group(i) for i in chosen} - {None}
            if groups:
                chosen += [i for i in self.pending[num:] if self._group(i) in groups]
            sent = set(chosen)
            self.pending[:] = [i for i in self.pending if i not in sent]
            if chosen:
                self.node2pending[node].extend(chosen)
                node.send_runtest_some(chosen)

    return GroupScheduling(config, log)


@pytest.fixture(scope="session")
def seaweed() -> SeaweedS3:
    """The S3 server of this test process (SeaweedFS), started on first use: take a prefix
    of its bucket with :meth:`SeaweedS3.url`."""
    return shared()


@pytest.fixture(scope="session")
def migrated() -> Iterator[None]:
    if PG_ADMIN_URL:
        _postgres_admin(f'CREATE DATABASE "{PG_DATABASE}"')
        # A commit need not wait for the WAL to reach the disk: the tests stop our servers,
        # never PostgreSQL, so what they check is unchanged and each commit is an fsync cheaper.
        _postgres_admin(f'ALTER DATABASE "{PG_DATABASE}" SET synchronous_commit = off')
    subprocess.run(hexagone_command("migrate"), env=server_env(), cwd=ROOT, check=True, capture_output=True)
    yield
    if PG_ADMIN_URL:
        _postgres_admin(f'DROP DATABASE IF EXISTS "{PG_DATABASE}" WITH (FORCE)')
    shutil.rmtree(DATA_DIR, ignore_errors=True)


@pytest.fixture(scope="session")
def server(migrated: None) -> Iterator[Server]:
    srv = Server().wait_ready()
    yield srv
    srv.stop()


@pytest.fixture(scope="session")
def start_servers(migrated: None) -> Iterator[Callable[..., list[Server]]]:
    """Start ``count`` extra servers with other settings (same database), side by side
    (each spends seconds importing and opening its listeners); stopped at the end."""
    started: list[Server] = []

    def start(count: int = 1, **env: str) -> list[Server]:
        servers = [Server(**env) for _ in range(count)]
        started.extend(servers)
        return [srv.wait_ready() for srv in servers]

    yield start
    stop(started)


@pytest.fixture(scope="session")
def start_server(start_servers: Callable[..., list[Server]]) -> Callable[..., Server]:
    """Start an extra server with other settings (same database), stopped at the end."""

    def start(**env: str) -> Server:
        (srv,) = start_servers(**env)
        return srv

    return start


@pytest.fixture(scope="session")
def base_url(server: Server) -> str:
    return server.base_url


@pytest.fixture
async def client(base_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=base_url, follow_redirects=False, timeout=30) as c:
        yield c


@pytest.fixture(scope="session", autouse=True)
async def _dispose_engine() -> AsyncIterator[None]:
    yield
    from hexagone.core.blobs import close_store
    from hexagone.core.db import dispose_engine

    await dispose_engine()
    await close_store()  # the S3 client's connections, when the run stores blobs in S3
