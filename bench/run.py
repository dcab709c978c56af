"""Hexagone's benchmarks, run by hand (``make bench`` or ``bash bench/run_all.sh``), not by
``make test``: password logins per second; the signed-in shell page, the webmail's inbox
list and ``/api/v1/me`` under wrk at 100 connections, side by side with two yardsticks
served the same way (a bare Starlette app, and a small FastAPI app making one SQLite query
under uvicorn) and the ratio to each; the servers' memory when idle and after the load.

Each database gets a fresh data directory (SQLite) or a fresh PostgreSQL database that is
dropped at the end; each server configuration (granian or uvicorn, N workers) is started,
measured and stopped in turn. Figures are printed as they come and as Markdown tables at
the end; ``--json PATH`` keeps them all.

    .venv/bin/python bench/run.py [--duration 15] [--servers granian,uvicorn] [--workers 1,2]
                                  [--databases sqlite,postgres] [--endpoints shell,webmail,me]
                                  [--peers bare,fastapi] [--json results.json]

A short run to compare before and after a change (a few minutes):

    .venv/bin/python bench/run.py --duration 5 --warmup 2 --servers granian --workers 1 \
        --databases sqlite --login-servers ''
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psutil

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
VENV_BIN = Path(sys.executable).parent
HEXAGONE = str(VENV_BIN / "hexagone")
DEMO_USER = "bob@demo.hexagone.test"  # an ordinary member of one space: the common case
DEMO_PASSWORD = "Hexagone-demo-2026"
KEYCLOAK_LOGINS_PER_VCPU = 15.0  # Keycloak's sizing guide: 1 vCPU per 15 password logins/s
P99_TARGET_MS = 100.0  # issue 15: p99 under 100 ms at 100 connections

# What wrk loads, by name: Hexagone's path (the webmail's is found after signing in) and
# what kind of answer it is, which picks the yardsticks' path of the same kind.
ENDPOINTS = {"shell": ("/", "page"), "webmail": ("/mail/", "page"), "me": ("/api/v1/me", "json")}
PEER_PATHS = {
    "bare": {"page": "/", "json": "/json"},
    "fastapi": {"page": "/", "json": "/users/00000000-0000-0000-0000-0000000001f4"},
}
PEER_SERVERS = {"fastapi": ["uvicorn"]}  # the FastAPI yardstick is served as such apps are: uvicorn
PEER_TITLES = {"bare": "bare Starlette", "fastapi": "FastAPI + 1 SQLite query"}


# --------------------------------------------------------------------------- processes


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def live_tree(pid: int) -> list[psutil.Process]:
    """The server's process and its live descendants: granian and uvicorn run each worker
    in a child process, and the supervisor's own memory counts too."""
    try:
        root = psutil.Process(pid)
        return [p for p in [root, *root.children(recursive=True)] if _alive(p)]
    except psutil.NoSuchProcess:
        return []


def _alive(p: psutil.Process) -> bool:
    try:
        return p.is_running() and p.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


@dataclass
class Memory:
    processes: int
    rss_mib: float  # sum over processes: counts shared pages once per process
    pss_mib: float  # proportional set size: shared pages split between processes
    worker_rss_mib: list[float]


def memory(pid: int) -> Memory:
    rss = pss = 0
    per: list[float] = []
    procs = live_tree(pid)
    for p in procs:
        with contextlib.suppress(psutil.NoSuchProcess, psutil.AccessDenied):
            info = p.memory_full_info()
            rss += info.rss
            pss += getattr(info, "pss", info.rss)
            per.append(round(info.rss / 2**20, 1))
    return Memory(len(procs), round(rss / 2**20, 1), round(pss / 2**20, 1), per)


def cpu_seconds(pid: int) -> dict[int, float]:
    """CPU seconds used so far by each process of the server, by pid."""
    used: dict[int, float] = {}
    for p in live_tree(pid):
        with contextlib.suppress(psutil.NoSuchProcess, psutil.AccessDenied):
            t = p.cpu_times()
            used[p.pid] = t.user + t.system
    return used


def cores_busy(before: dict[int, float], after: dict[int, float], seconds: float) -> list[float]:
    """How many cores each process kept busy in between (the supervisor included)."""
    return [round((after[pid] - before.get(pid, 0.0)) / seconds, 2) for pid in sorted(after)]


class Server:
    """A server started in its own process group, ready when ``ready_path`` answers."""

    def __init__(self, argv: list[str], env: dict[str, str], port: int, ready_path: str, log: Path, cwd: Path = ROOT):
        self.argv, self.env, self.port, self.ready_path, self.log, self.cwd = argv, env, port, ready_path, log, cwd
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def __enter__(self) -> Server:
        out = self.log.open("ab")
        self.proc = subprocess.Popen(
            self.argv, env=self.env, cwd=self.cwd, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}; see {self.log}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(self.base + self.ready_path, timeout=2).status_code == 200:
                    # every worker must be up before we measure: wait for the tree to settle
                    time.sleep(2)
                    return self
            time.sleep(0.2)
        self.__exit__()
        raise RuntimeError(f"server not ready after 60 s; see {self.log}")

    def __exit__(self, *_exc: object) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        pgid = os.getpgid(self.proc.pid)
        os.killpg(pgid, signal.SIGINT)
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(pgid, signal.SIGKILL)
            self.proc.wait()
        # workers left behind by a supervisor that died first
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, signal.SIGKILL)


# --------------------------------------------------------------------------- wrk


@dataclass
class WrkResult:
    requests: int
    seconds: float
    rps: float
    p50_ms: float
    p99_ms: float
    max_ms: float
    errors: int  # non-2xx/3xx answers plus socket errors


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text.strip()).groups()  # type: ignore[union-attr]
    return float(number) * _UNITS[unit]


def parse_wrk(out: str) -> WrkResult:
    total = re.search(r"(\d+) requests in ([\d.]+)(\w+),", out)
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    p50 = re.search(r"^\s+50%\s+(\S+)", out, re.M)
    p99 = re.search(r"^\s+99%\s+(\S+)", out, re.M)
    latency_max = re.search(r"^\s+Latency\s+\S+\s+\S+\s+(\S+)", out, re.M)
    if not (total and rps and p50 and p99 and latency_max):
        raise RuntimeError(f"could not read wrk's output:\n{out}")
    errors = sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", out))
    non_ok = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors += int(non_ok.group(1)) if non_ok else 0
    seconds = _ms(total.group(2) + total.group(3)) / 1000
    return WrkResult(
        int(total.group(1)),
        seconds,
        float(rps.group(1)),
        _ms(p50.group(1)),
        _ms(p99.group(1)),
        _ms(latency_max.group(1)),
        errors,
    )


def wrk(
    url: str,
    *,
    seconds: float,
    connections: int,
    headers: dict[str, str] | None = None,
    script: Path | None = None,
    script_args: tuple[str, ...] = (),
    timeout: str = "10s",
) -> WrkResult:
    """wrk's own timeout is 2 s, which would cut the tail off the latency figures of a slow
    server and count those requests as errors instead: 10 s keeps the p99 honest."""
    threads = min(2, connections)
    argv = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds:g}s", "--latency", f"--timeout={timeout}"]
    for name, value in (headers or {}).items():
        argv += ["-H", f"{name}: {value}"]
    if script is not None:
        argv += ["-s", str(script)]
    argv.append(url)
    if script_args:
        argv += ["--", *script_args]
    out = subprocess.run(argv, check=True, capture_output=True, text=True).stdout
    return parse_wrk(out)


# --------------------------------------------------------------------------- hexagone


@dataclass
class Browser:
    """What a signed-in browser sends: its session cookie and its CSRF cookie."""

    session: str
    csrf_cookie: str

    @property
    def cookie_header(self) -> str:
        return f"hx_session={self.session}; hx_csrf={self.csrf_cookie}"


def csrf(base: str) -> tuple[str, str]:
    """A CSRF cookie and the matching form token, as the login page hands them out."""
    r = httpx.get(base + "/login", timeout=10)
    r.raise_for_status()
    token = re.search(r'name="csrf_token" value="([^"]+)"', r.text)
    if token is None or "hx_csrf" not in r.cookies:
        raise RuntimeError("the login page gave no CSRF token")
    return r.cookies["hx_csrf"], token.group(1)


def sign_in(base: str, email: str = DEMO_USER, password: str = DEMO_PASSWORD) -> Browser:
    cookie, token = csrf(base)
    r = httpx.post(
        base + "/login",
        data={"email": email, "password": password, "csrf_token": token, "next": "/"},
        cookies={"hx_csrf": cookie},
        timeout=30,
    )
    if r.status_code != 303 or "hx_session" not in r.cookies:
        raise RuntimeError(f"login failed: {r.status_code} {r.text[:200]}")
    return Browser(r.cookies["hx_session"], cookie)


def webmail_list(base: str, browser: Browser) -> str:
    """The path of the signed-in user's inbox list (``/mail/`` redirects there)."""
    r = httpx.get(base + "/mail/", headers={"cookie": browser.cookie_header}, timeout=30)
    if r.status_code != 303 or not r.headers.get("location", "").startswith("/mail/folders/"):
        raise RuntimeError(f"GET /mail/ answered {r.status_code} {r.headers.get('location')}, not the inbox")
    return r.headers["location"]


def check_signed_in(base: str, browser: Browser, paths: tuple[str, ...] = ("/", "/api/v1/me")) -> None:
    """wrk counts a redirect to /login as a success: make sure the pages really answer 200."""
    headers = {"cookie": browser.cookie_header}
    for path in paths:
        r = httpx.get(base + path, headers=headers, timeout=30)
        if r.status_code != 200:
            raise RuntimeError(f"GET {path} answered {r.status_code}, not 200: the session is not accepted")


@dataclass
class Database:
    name: str
    url: str | None  # None: SQLite in the data directory


@contextlib.contextmanager
def database(kind: str, pg_admin: str) -> Iterator[Database]:
    if kind == "sqlite":
        yield Database("sqlite", None)
        return
    import asyncpg

    name = f"hexagone_bench_{secrets.token_hex(4)}"

    async def admin(sql: str) -> None:
        conn = await asyncpg.connect(pg_admin)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    try:
        host = pg_admin.split("://", 1)[1].rsplit("/", 1)[0]
        yield Database("postgres", f"postgresql+asyncpg://{host}/{name}")
    finally:
        asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def hexagone_env(data_dir: Path, db: Database, server: str = "granian") -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HEXAGONE_")}
    env.update(
        {
            "HEXAGONE_DATA_DIR": str(data_dir),
            "HEXAGONE_SERVER": server,
            "HEXAGONE_LOG_LEVEL": "warning",
            "HEXAGONE_DEMO_PASSWORD": DEMO_PASSWORD,
            # set, not generated: several workers starting at once must agree on it
            "HEXAGONE_SECRET_KEY": secrets.token_urlsafe(48),
        }
    )
    if db.url:
        env["HEXAGONE_DATABASE_URL"] = db.url
    return env


def prepare(env: dict[str, str], log: Path) -> None:
    with log.open("ab") as out:
        for argv in ([HEXAGONE, "migrate"], [HEXAGONE, "demo"]):
            subprocess.run(argv, env=env, cwd=ROOT, check=True, stdout=out, stderr=subprocess.STDOUT)


# --------------------------------------------------------------------------- measures


@dataclass
class Endpoint:
    name: str  # shell, webmail, me; for a yardstick, the kind of answer (page, json)
    kind: str  # page or json: what a yardstick's figure is compared with
    path: str
    result: WrkResult
    cpu_ms: float  # server CPU time per request: steadier than req/s on a shared machine
    cores: list[float]  # cores kept busy by each server process (supervisor, workers)
    loadavg: float  # the machine's 1-minute load average at the end of the run


@dataclass
class Login:
    concurrency: int
    logins_per_s: float
    server_cores_busy: float
    logins_per_core_s: float
    keycloak_ratio: float
    p50_ms: float
    p99_ms: float
    errors: int
    loadavg: float


@dataclass
class Run:
    app: str  # "hexagone", or a yardstick: "bare", "fastapi"
    server: str
    workers: int
    database: str  # "-" for the bare app
    idle: Memory | None = None
    loaded: Memory | None = None  # after the page and API load
    after_logins: Memory | None = None  # argon2id takes 64 MiB per check: the heap keeps some
    endpoints: list[Endpoint] = field(default_factory=list)
    logins: list[Login] = field(default_factory=list)


def say(text: str) -> None:
    print(text, flush=True)


def measure_endpoints(
    run: Run,
    server: Server,
    endpoints: list[tuple[str, str, str]],
    args: argparse.Namespace,
    headers: dict[str, str] | None = None,
) -> None:
    """Each of ``endpoints`` (name, kind, path) under wrk, after a warm-up."""
    for name, kind, path in endpoints:
        if args.warmup:
            wrk(server.base + path, seconds=args.warmup, connections=args.connections, headers=headers)
        cpu0, t0 = cpu_seconds(server.pid), time.monotonic()
        result = wrk(server.base + path, seconds=args.duration, connections=args.connections, headers=headers)
        cpu1, t1 = cpu_seconds(server.pid), time.monotonic()
        cpu_ms = 1000 * (sum(cpu1.values()) - sum(cpu0.values())) / max(result.requests, 1)
        endpoint = Endpoint(
            name, kind, path, result, round(cpu_ms, 2), cores_busy(cpu0, cpu1, t1 - t0), os.getloadavg()[0]
        )
        run.endpoints.append(endpoint)
        say(
            f"  {run.app:8} {run.server:7} w={run.workers} {run.database:8} {name:7} GET {path[:24]:24} "
            f"{result.rps:8.0f} req/s  p50 {result.p50_ms:6.1f} ms  p99 {result.p99_ms:6.1f} ms  "
            f"CPU {cpu_ms:5.2f} ms/req, cores busy {endpoint.cores}  errors {result.errors}  "
            f"(load avg {endpoint.loadavg:.1f})"
        )


def measure_logins(run: Run, server: Server, args: argparse.Namespace) -> None:
    cookie, token = csrf(server.base)
    for concurrency in args.login_concurrency:
        cpu0, t0 = cpu_seconds(server.pid), time.monotonic()
        result = wrk(
            server.base + "/login",
            seconds=args.login_duration,
            connections=concurrency,
            script=BENCH_DIR / "login.lua",
            script_args=(DEMO_USER, DEMO_PASSWORD, cookie, token),
            timeout="30s",
        )
        per_process = cores_busy(cpu0, cpu_seconds(server.pid), time.monotonic() - t0)
        busy = sum(per_process)
        ok = result.requests - result.errors
        per_s = ok / result.seconds
        per_core = per_s / busy if busy else 0.0
        login = Login(
            concurrency,
            round(per_s, 2),
            round(busy, 2),
            round(per_core, 2),
            round(per_core / KEYCLOAK_LOGINS_PER_VCPU, 2),
            result.p50_ms,
            result.p99_ms,
            result.errors,
            os.getloadavg()[0],
        )
        run.logins.append(login)
        say(
            f"  logins   {run.server:7} w={run.workers} {run.database:8} c={concurrency:<3} "
            f"{login.logins_per_s:6.1f} logins/s  server busy {busy:4.2f} cores {per_process}  "
            f"{per_core:5.1f} logins/s per core = {login.keycloak_ratio:.2f}× Keycloak's 15  "
            f"p50 {result.p50_ms:.0f} ms p99 {result.p99_ms:.0f} ms  errors {result.errors}  (load avg {login.loadavg:.1f})"
        )


def bench_hexagone(
    db: Database,
    server_name: str,
    workers: int,
    data_dir: Path,
    env: dict[str, str],
    args: argparse.Namespace,
    log: Path,
) -> Run:
    run = Run("hexagone", server_name, workers, db.name)
    port = free_port()
    env = {**env, "HEXAGONE_SERVER": server_name, "HEXAGONE_HTTP_PORT": str(port)}
    argv = [HEXAGONE, "serve", "--port", str(port), "--workers", str(workers)]
    with Server(argv, env, port, "/healthz", log) as server:
        browser = sign_in(server.base)
        endpoints = [
            (name, ENDPOINTS[name][1], webmail_list(server.base, browser) if name == "webmail" else ENDPOINTS[name][0])
            for name in args.endpoints
        ]
        paths = tuple(path for _name, _kind, path in endpoints)
        check_signed_in(server.base, browser, paths)
        run.idle = memory(server.pid)
        say(
            f"  hexagone {server_name:7} w={workers} {db.name:8} idle RSS {run.idle.rss_mib} MiB "
            f"(PSS {run.idle.pss_mib} MiB, {run.idle.processes} processes)"
        )
        measure_endpoints(run, server, endpoints, args, {"Cookie": browser.cookie_header})
        check_signed_in(server.base, browser, paths)
        run.loaded = memory(server.pid)
        say(
            f"  hexagone {server_name:7} w={workers} {db.name:8} RSS after the page load {run.loaded.rss_mib} MiB "
            f"(PSS {run.loaded.pss_mib} MiB)"
        )
        if server_name in args.login_servers:
            measure_logins(run, server, args)
            run.after_logins = memory(server.pid)
            say(
                f"  hexagone {server_name:7} w={workers} {db.name:8} RSS after the logins "
                f"{run.after_logins.rss_mib} MiB (PSS {run.after_logins.pss_mib} MiB)"
            )
    return run


def bench_peer(app: str, server_name: str, workers: int, args: argparse.Namespace, log: Path, tmp: Path) -> Run:
    """A yardstick (``bare`` or ``fastapi``), served like Hexagone, on the kinds of answer
    (page, JSON) that the chosen endpoints need."""
    run = Run(app, server_name, workers, "-")
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(BENCH_DIR), "BENCH_FASTAPI_DB": str(tmp / "fastapi-users.sqlite3")}
    argv = [sys.executable, str(BENCH_DIR / "serve_bare.py"), server_name, str(port), str(workers), f"{app}_app"]
    kinds = sorted({ENDPOINTS[name][1] for name in args.endpoints}, reverse=True)  # page first
    with Server(argv, env, port, "/", log, cwd=BENCH_DIR) as server:
        run.idle = memory(server.pid)
        measure_endpoints(run, server, [(kind, kind, PEER_PATHS[app][kind]) for kind in kinds], args)
        run.loaded = memory(server.pid)
        say(
            f"  {app:8} {server_name:7} w={workers} RSS idle {run.idle.rss_mib} MiB, after load "
            f"{run.loaded.rss_mib} MiB"
        )
    return run


# --------------------------------------------------------------------------- report


def machine() -> dict[str, Any]:
    model = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    wrk_version = subprocess.run(["wrk", "-v"], capture_output=True, text=True).stdout.splitlines()[:1]
    return {
        "nproc": os.cpu_count(),
        "cpu": model,
        "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
        "python": platform.python_version(),
        "kernel": platform.release(),
        "wrk": wrk_version[0] if wrk_version else "?",
    }


def peer_endpoint(runs: list[Run], app: str, server: str, workers: int, kind: str) -> Endpoint | None:
    """The yardstick's figure to compare with: same kind of answer and number of workers,
    and the same server for the bare app (the FastAPI app runs under uvicorn only)."""
    for r in runs:
        if r.app == app and r.workers == workers and (r.server == server or app in PEER_SERVERS):
            for e in r.endpoints:
                if e.kind == kind:
                    return e
    return None


def tables(runs: list[Run]) -> str:
    peers = [app for app in PEER_TITLES if any(r.app == app for r in runs)]
    head = "| database | server | workers | endpoint | req/s | p50 ms | p99 ms | server CPU ms/req | "
    rule = "|---|---|---:|---|---:|---:|---:|---:|"
    for app in peers:
        head += f"{PEER_TITLES[app]} req/s | ÷ {app} | "
        rule += "---:|---:|"
    lines = [head + "CPU ÷ " + " / ".join(peers) + " | cores busy per process | errors | load avg |"]
    lines.append(rule + "---:|---|---:|---:|")
    for r in runs:
        if r.app != "hexagone":
            continue
        for e in r.endpoints:
            miss = " ✗" if e.result.p99_ms >= P99_TARGET_MS else ""
            row = (
                f"| {r.database} | {r.server} | {r.workers} | {e.name} | {e.result.rps:.0f} | "
                f"{e.result.p50_ms:.1f} | {e.result.p99_ms:.1f}{miss} | {e.cpu_ms:.2f} | "
            )
            cpu_ratios = []
            for app in peers:
                p = peer_endpoint(runs, app, r.server, r.workers, e.kind)
                if p is None:
                    row += "- | - | "
                    cpu_ratios.append("-")
                else:
                    row += f"{p.result.rps:.0f} | {e.result.rps / p.result.rps:.3f} | "
                    cpu_ratios.append(f"{e.cpu_ms / p.cpu_ms:.0f}" if p.cpu_ms else "-")
            lines.append(
                row + f"{' / '.join(cpu_ratios)} | {' + '.join(str(c) for c in e.cores)} | "
                f"{e.result.errors} | {e.loadavg:.1f} |"
            )
    lines += [
        "",
        "| yardstick | server | workers | answer | req/s | p50 ms | p99 ms | server CPU ms/req | errors | load avg |",
        "|---|---|---:|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in runs:
        if r.app == "hexagone":
            continue
        for e in r.endpoints:
            lines.append(
                f"| {PEER_TITLES[r.app]} | {r.server} | {r.workers} | {e.kind} | {e.result.rps:.0f} | "
                f"{e.result.p50_ms:.1f} | {e.result.p99_ms:.1f} | {e.cpu_ms:.2f} | {e.result.errors} | "
                f"{e.loadavg:.1f} |"
            )
    lines += [
        "",
        "| app | database | server | workers | processes | RSS idle MiB | RSS after load MiB | "
        "PSS idle MiB | PSS after load MiB | RSS per process after load | RSS after logins MiB |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|---|---:|",
    ]
    for r in runs:
        if r.idle and r.loaded:
            lines.append(
                f"| {r.app} | {r.database} | {r.server} | {r.workers} | {r.loaded.processes} | "
                f"{r.idle.rss_mib} | {r.loaded.rss_mib} | {r.idle.pss_mib} | {r.loaded.pss_mib} | "
                f"{', '.join(str(x) for x in r.loaded.worker_rss_mib)} | "
                f"{r.after_logins.rss_mib if r.after_logins else '-'} |"
            )
    logins = [(r, x) for r in runs for x in r.logins]
    if logins:
        lines += [
            "",
            "| database | server | workers | concurrency | logins/s | server cores busy | "
            "logins/s per core | ÷ Keycloak (15/s/vCPU) | p50 ms | p99 ms | errors | load avg |",
            "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for r, x in logins:
            lines.append(
                f"| {r.database} | {r.server} | {r.workers} | {x.concurrency} | {x.logins_per_s:.1f} | "
                f"{x.server_cores_busy:.2f} | {x.logins_per_core_s:.1f} | {x.keycloak_ratio:.2f} | "
                f"{x.p50_ms:.0f} | {x.p99_ms:.0f} | {x.errors} | {x.loadavg:.1f} |"
            )
    return "\n".join(lines)


def csv_list(kind: type) -> Any:
    return lambda text: [kind(x) for x in text.split(",") if x]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--duration", type=float, default=15, help="seconds of wrk per endpoint (default 15)")
    p.add_argument("--warmup", type=float, default=3, help="seconds of wrk before each measure (0: none)")
    p.add_argument("--connections", type=int, default=100)
    p.add_argument("--servers", type=csv_list(str), default=["granian", "uvicorn"])
    p.add_argument("--workers", type=csv_list(int), default=[1, 2])
    p.add_argument("--databases", type=csv_list(str), default=["sqlite", "postgres"])
    p.add_argument(
        "--login-servers",
        type=csv_list(str),
        default=["granian"],
        help="servers on which logins are measured too (argon2 dominates; default granian)",
    )
    p.add_argument("--login-concurrency", type=csv_list(int), default=[1, 2, 4, 8])
    p.add_argument("--login-duration", type=float, default=15)
    p.add_argument(
        "--endpoints",
        type=csv_list(str),
        default=list(ENDPOINTS),
        help="what to load: shell (GET /), webmail (the inbox list), me (/api/v1/me); default all three",
    )
    p.add_argument(
        "--peers",
        type=csv_list(str),
        default=list(PEER_TITLES),
        help="yardsticks: bare (Starlette, each server), fastapi (FastAPI + one SQLite query, uvicorn)",
    )
    p.add_argument("--no-bare", action="store_true", help="skip the yardsticks (same as --peers '')")
    p.add_argument(
        "--pg-admin",
        default=os.environ.get("BENCH_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/postgres"),
        help="where to CREATE and DROP the benchmark's PostgreSQL database",
    )
    p.add_argument("--json", type=Path, help="write every figure to this file")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    unknown = [name for name in args.endpoints if name not in ENDPOINTS] + [
        app for app in args.peers if app not in PEER_TITLES
    ]
    if unknown:
        sys.exit(f"unknown endpoint or yardstick: {', '.join(unknown)}")
    if args.no_bare:
        args.peers = []
    if shutil.which("wrk") is None:
        sys.exit("wrk is missing: apt-get install wrk (bench/run_all.sh does it when run as root)")
    info = machine()
    say(
        f"machine: {info['nproc']} CPUs, {info['cpu']}, {info['memory_gib']} GiB, Python {info['python']}, "
        f"{info['wrk']}; load average now {os.getloadavg()[0]:.2f}"
    )
    say("note: wrk runs on the same machine and takes part of its CPUs.")
    runs: list[Run] = []
    with tempfile.TemporaryDirectory(prefix="hexagone-bench-") as tmp:
        log = Path(tmp) / "servers.log"
        try:
            for app in args.peers:
                say(f"{PEER_TITLES[app]} (a yardstick):")
                for server_name in PEER_SERVERS.get(app, args.servers):
                    for workers in args.workers:
                        runs.append(bench_peer(app, server_name, workers, args, log, Path(tmp)))
            for kind in args.databases:
                with database(kind, args.pg_admin) as db:
                    data_dir = Path(tmp) / kind
                    env = hexagone_env(data_dir, db)
                    prepare(env, log)
                    say(f"hexagone on {kind}:")
                    for server_name in args.servers:
                        for workers in args.workers:
                            runs.append(bench_hexagone(db, server_name, workers, data_dir, env, args, log))
        except Exception:
            say(f"--- last lines of {log} ---")
            with contextlib.suppress(OSError):
                say("\n".join(log.read_text(errors="replace").splitlines()[-40:]))
            raise
    say("\n" + tables(runs))
    if args.json:
        args.json.write_text(json.dumps({"machine": info, "runs": [asdict(r) for r in runs]}, indent=2))
        say(f"\nall figures written to {args.json}")


if __name__ == "__main__":
    main()
