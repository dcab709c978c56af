"""Users per box: how many agents at work one machine serves with p95 under 500 ms and no
error (issue 15). For each database, one command starts Hexagone as ``bench/run.py`` does
(a temporary data directory, a fresh PostgreSQL database dropped at the end, Redis as the
event bus on PostgreSQL), then, step by step, adds the users the step needs with mail in
their INBOX (``seed.py``) and runs the Locust scenario (``locustfile.py``) headless.

    .venv/bin/python bench/users/run.py --database sqlite,postgres --own-postgres \\
        --steps 100,150,200,250,300,400,500,750,1000,1500,2000 [--profile-step 250]

Each step is one Locust run: it ramps up to the step's number of users (``--spawn-rate``
per second, every user signing in once and opening its IMAP connection), waits
``--settle`` seconds, then is measured for ``--hold`` seconds. A step passes when, during
its hold, the 95th percentile of the web requests (sign-ins apart) is under 500 ms and
nothing failed, in the hold or in the ramp before it (web, sign-in or IMAP). No larger
step runs after one whose p95 passed ``--abort-p95-ms``. It prints per step the users,
requests/s, p50/p95/p99 of each request, the failures, the server's CPU and memory, and
Locust's and PostgreSQL's CPU; writes every figure to ``--json`` (one entry per database,
the others kept) and draws the curve (``chart.py``) into ``--chart``.

Bench-only settings, never the defaults: the open-file limit is raised for the server and
Locust (two sockets per user). Nothing else needs raising: sign-ins are throttled only
after failures, IMAP has no per-address connection limit and the SMTP limits spare the
loopback (see docs/users-per-box.md).
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import psutil

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "mail"))
import procs  # noqa: E402  (bench/mail/procs.py: bench/run.py's server helpers, loaded by path)

sys.path.append(str(HERE.parent))  # after this folder: bench/run.py is not this run.py
import profile_split  # noqa: E402
from chart import draw  # noqa: E402
from schedule import Plan, split_name  # noqa: E402

web = procs.web
ROOT = HERE.parents[1]
PYTHON = sys.executable
LOCUST = str(Path(sys.executable).parent / "locust")
PY_SPY = str(Path(sys.executable).parent / "py-spy")
PASSWORD = "Agents-at-work-2026"
DOMAIN = "bench.hexagone.test"  # seed.DOMAIN
P95_TARGET_MS = 500.0
SIGN_INS = ("GET /login", "POST /login")
OPEN_FILES = 20_000


@dataclass
class Request:
    name: str
    kind: str  # GET, POST, IMAP
    requests: int
    failures: int
    per_s: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float


@dataclass
class Step:
    users: int
    seconds: float
    requests: int  # web requests of the hold, sign-ins apart
    per_s: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    failures: int  # every failure of the hold and of the ramp before it
    failures_hold: int
    sign_ins: int  # during the ramp
    sign_in_p95_ms: float
    imap_connected: int  # IMAP sign-ins that succeeded so far
    server_cores: float  # CPU seconds per second, over the server's processes, during the hold
    server_rss_mib: float  # the largest during the hold, summed over its processes
    locust_cores: float
    database_cores: float | None  # PostgreSQL's, with --own-postgres
    loadavg: float
    passed: bool
    worst: str  # the request with the highest p95
    requests_by_name: list[Request] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    profile: str = ""  # py-spy's split by layer and phase (--profile-step)


@dataclass
class Result:
    database: str
    workers: int
    commit: str
    started: str
    plan: dict[str, Any]
    seed: list[dict[str, Any]]
    steps: list[Step]
    largest_passing: int
    stopped_early: str
    machine: dict[str, Any]


def say(text: str) -> None:
    print(text, flush=True)


# --------------------------------------------------------------------------- sampling


class Sampler(threading.Thread):
    """Every second: the CPU seconds used so far and the memory of the server's process
    tree, Locust's process tree and, with ``--own-postgres``, PostgreSQL's (the postmaster
    and its backends, those already gone included)."""

    def __init__(self, server_pid: int, locust_pid: int, postgres: int | None):
        super().__init__(daemon=True)
        self.server_pid, self.locust_pid, self.postgres = server_pid, locust_pid, postgres
        self.samples: list[tuple[float, ...]] = []  # t, server CPU, server RSS MiB, Locust CPU, db CPU, load
        self.stop = threading.Event()

    @staticmethod
    def cpu(processes: list[psutil.Process]) -> float:
        total = 0.0
        for p in processes:
            with contextlib.suppress(psutil.NoSuchProcess, psutil.AccessDenied):
                t = p.cpu_times()
                total += t.user + t.system
        return total

    def database_cpu(self) -> float:
        return procs.tree_cpu(self.postgres) if self.postgres else 0.0

    def run(self) -> None:
        while not self.stop.is_set():
            server = web.live_tree(self.server_pid)
            rss = 0.0
            for p in server:
                with contextlib.suppress(psutil.NoSuchProcess, psutil.AccessDenied):
                    rss += p.memory_info().rss / 2**20
            self.samples.append(
                (
                    time.time(),
                    self.cpu(server),
                    rss,
                    self.cpu(web.live_tree(self.locust_pid)),
                    self.database_cpu(),
                    os.getloadavg()[0],
                )
            )
            self.stop.wait(1.0)

    def between(self, start: float, end: float) -> tuple[float, float, float, float, float]:
        """(server cores, largest server RSS MiB, Locust cores, database cores, load
        average at the end) from start to end."""
        inside = [s for s in self.samples if start <= s[0] <= end]
        if len(inside) < 2:
            return 0.0, 0.0, 0.0, 0.0, 0.0
        first, last = inside[0], inside[-1]
        seconds = last[0] - first[0]
        return (
            (last[1] - first[1]) / seconds,
            max(s[2] for s in inside),
            (last[3] - first[3]) / seconds,
            (last[4] - first[4]) / seconds,
            last[5],
        )


# --------------------------------------------------------------------------- figures


def percentile(times: dict[str, int], count: int, fraction: float) -> float:
    """Locust's own percentile over its histogram of rounded response times."""
    if not count:
        return 0.0
    wanted = int(count * fraction)
    seen = 0
    for value in sorted((int(k) for k in times), reverse=True):
        seen += times[str(value)]
        if count - seen <= wanted:
            return float(value)
    return 0.0


def merge(entries: list[dict[str, Any]]) -> tuple[int, int, dict[str, int], float]:
    times: dict[str, int] = {}
    requests = failures = 0
    top = 0.0
    for e in entries:
        requests += e["num_requests"]
        failures += e["num_failures"]
        top = max(top, e["max_response_time"] or 0)
        for k, v in e["response_times"].items():
            times[str(int(float(k)))] = times.get(str(int(float(k))), 0) + v
    return requests, failures, times, top


def request_figures(name: str, kind: str, entries: list[dict[str, Any]], seconds: float) -> Request:
    requests, failures, times, top = merge(entries)
    return Request(
        name,
        kind,
        requests,
        failures,
        round(requests / seconds, 2) if seconds else 0.0,
        percentile(times, requests, 0.50),
        percentile(times, requests, 0.95),
        percentile(times, requests, 0.99),
        round(top, 1),
    )


def read_failures(path: Path) -> dict[str, list[str]]:
    """Locust's failures CSV: by phase label, 'occurrences × method name: error'."""
    found: dict[str, list[str]] = {}
    if not path.exists():
        return found
    with path.open(newline="") as f:
        for row in csv.DictReader(f):
            label, request = split_name(row["Name"])
            found.setdefault(label, []).append(f"{row['Occurrences']} × {row['Method']} {request}: {row['Error']}")
    return found


def steps_of(
    plan: Plan, t0: float, stats: list[dict[str, Any]], failures: dict[str, list[str]], sampler: Sampler
) -> list[Step]:
    steps = []
    phases = plan.phases
    for i, phase in enumerate(phases):
        if not phase.hold:
            continue
        ramp = phases[i - 1]
        here = [e for e in stats if split_name(e["name"])[0] == phase.label]
        in_ramp = [e for e in stats if split_name(e["name"])[0] == ramp.label]
        if not here:
            break  # Locust stopped before this hold
        seconds = phase.end - phase.start
        web_entries = [e for e in here if e["method"] != "IMAP" and not split_name(e["name"])[1].startswith(SIGN_INS)]
        overall = request_figures("web requests", "", web_entries, seconds)
        by_name = [
            request_figures(split_name(e["name"])[1], e["method"], [e], seconds)
            for e in sorted(here, key=lambda e: (e["method"] == "IMAP", e["name"]))
        ]
        sign_ins = request_figures("POST /login", "POST", [e for e in in_ramp if e["name"].endswith("POST /login")], 1)
        imap_logins = sum(
            e["num_requests"] - e["num_failures"]
            for e in stats
            if e["name"].endswith("IMAP connect + LOGIN") and plan_index(plan, split_name(e["name"])[0]) <= i
        )
        failed_hold = sum(e["num_failures"] for e in here)
        failed = failed_hold + sum(e["num_failures"] for e in in_ramp)
        server, rss, locust, database, load = sampler.between(t0 + phase.start, t0 + phase.end)
        web_requests = [r for r in by_name if r.kind != "IMAP" and not r.name.startswith(SIGN_INS)]
        worst = max(web_requests, key=lambda r: r.p95_ms, default=None)
        steps.append(
            Step(
                users=phase.users,
                seconds=seconds,
                requests=overall.requests,
                per_s=overall.per_s,
                p50_ms=overall.p50_ms,
                p95_ms=overall.p95_ms,
                p99_ms=overall.p99_ms,
                failures=failed,
                failures_hold=failed_hold,
                sign_ins=sign_ins.requests,
                sign_in_p95_ms=sign_ins.p95_ms,
                imap_connected=imap_logins,
                server_cores=round(server, 2),
                server_rss_mib=round(rss, 1),
                locust_cores=round(locust, 2),
                database_cores=round(database, 2) if database else None,
                loadavg=round(load, 2),
                passed=overall.p95_ms < P95_TARGET_MS and failed == 0 and overall.requests > 0,
                worst=f"{worst.name} p95 {worst.p95_ms:.0f} ms" if worst else "",
                requests_by_name=by_name,
                errors=failures.get(phase.label, []) + failures.get(ramp.label, []),
            )
        )
    return steps


def plan_index(plan: Plan, label: str) -> int:
    return next((i for i, p in enumerate(plan.phases) if p.label == label), len(plan.phases))


# --------------------------------------------------------------------------- one database


def start_locust(
    plan: Plan, args: argparse.Namespace, base: str, imap_port: int, out: Path, log: Path
) -> tuple[subprocess.Popen[bytes], float]:
    t0 = time.time() + 5  # Locust's processes start and connect first
    env = {
        **os.environ,
        **plan.env(),
        "HEXBENCH_T0": f"{t0:.3f}",
        "HEXBENCH_ACCOUNTS": str(max(plan.steps)),
        "HEXBENCH_DOMAIN": DOMAIN,
        "HEXBENCH_PASSWORD": PASSWORD,
        "HEXBENCH_IMAP_PORT": str(imap_port),
        "HEXBENCH_PROCESSES": str(args.processes),
    }
    argv = [
        LOCUST,
        "-f",
        str(HERE / "locustfile.py"),
        "--headless",
        "--host",
        base,
        "--csv",
        str(out / "locust"),
        "--json-file",
        str(out / "locust"),
        "--loglevel",
        "WARNING",
        "--only-summary",
        "--stop-timeout",
        "10",
    ]
    if args.processes > 1:
        argv += ["--processes", str(args.processes)]
    with log.open("ab") as f:
        proc = subprocess.Popen(argv, env=env, cwd=HERE, stdout=f, stderr=subprocess.STDOUT, start_new_session=True)
    return proc, t0


@contextlib.contextmanager
def own_postgres() -> Iterator[tuple[str, int]]:
    """A PostgreSQL cluster of the benchmark's own (Debian's binaries, its default
    settings), stopped and deleted at the end; yields its admin URL and its postmaster's
    pid. A server shared with other work may run out of its 100 connections, which
    Hexagone's two workers (up to 30 each) would then be refused."""
    binaries = sorted(Path("/usr/lib/postgresql").glob("*/bin"))
    if not binaries:
        sys.exit("--own-postgres needs PostgreSQL's server binaries (apt-get install postgresql)")
    root = Path(tempfile.mkdtemp(prefix="hexagone-users-pg-"))  # not under a 0700 directory of root's
    bin_dir, data, port = binaries[-1], root / "pgdata", procs.free_port()
    as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []  # initdb refuses root
    if as_postgres:
        shutil.chown(root, "postgres")
    subprocess.run(
        [*as_postgres, str(bin_dir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres"],
        check=True,
        capture_output=True,
    )
    ctl = [*as_postgres, str(bin_dir / "pg_ctl"), "-D", str(data), "-w"]
    options = f"-p {port} -k {root} -c listen_addresses=127.0.0.1"
    subprocess.run([*ctl, "-o", options, "-l", str(root / "postgres.log"), "start"], check=True, capture_output=True)
    try:
        postmaster = int((data / "postmaster.pid").read_text().split()[0])
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres", postmaster
    finally:
        subprocess.run([*ctl, "-m", "fast", "stop"], check=False, capture_output=True)
        shutil.rmtree(root, ignore_errors=True)


class Profile(threading.Thread):
    """py-spy on every worker of the server during a step's hold (``--profile-step``):
    samples of the thread holding the GIL, i.e. the CPU spent in Python, split by layer and
    by phase by ``bench/profile_split.py``."""

    def __init__(self, server_pid: int, start: float, seconds: float, out: Path):
        super().__init__(daemon=True)
        self.server_pid, self.start_at, self.seconds, self.out = server_pid, start, seconds, out
        self.files: list[Path] = []

    def run(self) -> None:
        time.sleep(max(self.start_at - time.time(), 0))
        tree = web.live_tree(self.server_pid)
        workers = [p.pid for p in tree if p.pid != self.server_pid] or [self.server_pid]
        spies = []
        for pid in workers:
            raw = self.out / f"py-spy-{pid}.txt"
            argv = [PY_SPY, "record", "--pid", str(pid), "--duration", str(int(self.seconds)), "--rate", "100"]
            argv += ["--gil", "--nonblocking", "--format", "raw", "--output", str(raw)]
            spies.append(subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
            self.files.append(raw)
        for spy in spies:
            spy.wait()

    def report(self) -> str:
        raw = "\n".join(f.read_text() for f in self.files if f.exists())
        return profile_split.report(raw) if raw.strip() else "py-spy recorded nothing"


def seed(env: dict[str, str], users: int, args: argparse.Namespace) -> dict[str, Any]:
    """Users up to ``users`` with their mail (``seed.py`` adds only what is missing)."""
    argv = [PYTHON, str(HERE / "seed.py"), "--users", str(users), "--messages", str(args.messages)]
    argv += ["--password", PASSWORD, "--jobs", str(args.seed_jobs)]
    done = subprocess.run(argv, env=env, cwd=ROOT, check=True, capture_output=True, text=True)
    figures: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return figures


def too_slow(step: Step, args: argparse.Namespace) -> bool:
    """Whether the next, larger steps are not worth running."""
    return step.p95_ms > args.abort_p95_ms or step.failures > max(step.requests, 1) * 0.05


def bench_database(kind: str, args: argparse.Namespace, tmp: Path) -> Result:
    log = tmp / f"{kind}-server.log"
    out = tmp / kind
    out.mkdir()
    steps: list[Step] = []
    seeds: list[dict[str, Any]] = []
    stopped = ""
    started = time.time()
    with contextlib.ExitStack() as stack:
        pg_admin = args.pg_admin
        postmaster = None
        if kind == "postgres" and args.own_postgres:
            pg_admin, postmaster = stack.enter_context(own_postgres())
        db = stack.enter_context(web.database(kind, pg_admin))
        env = web.hexagone_env(out / "data", db)
        ports = {name: procs.free_port() for name in ("HTTP", "IMAP", "SMTP", "SUBMISSION")}
        env |= {f"HEXAGONE_{name}_PORT": str(port) for name, port in ports.items()}
        if kind == "postgres":
            env["HEXAGONE_PUBSUB_URL"] = args.redis
        web.prepare(env, log)
        argv = [web.HEXAGONE, "serve", "--port", str(ports["HTTP"])]
        if args.workers:
            argv += ["--workers", str(args.workers)]
        with web.Server(argv, env, ports["HTTP"], "/healthz", log) as server:
            workers = max(len(web.live_tree(server.pid)) - 1, 1)
            say(f"{kind}: {workers} web worker(s), idle RSS {web.memory(server.pid).rss_mib} MiB")
            for users in args.steps:
                seeds.append(seed(env, users, args))
                say(f"  {users} users: seeded {json.dumps(seeds[-1])}")
                plan = Plan((users,), args.spawn_rate, args.settle, args.hold)
                step_dir = out / f"step-{users}"
                step_dir.mkdir()
                locust_log = step_dir / "locust.log"
                proc, t0 = start_locust(plan, args, server.base, ports["IMAP"], step_dir, locust_log)
                sampler = Sampler(server.pid, proc.pid, postmaster)
                sampler.start()
                profile = None
                if users == args.profile_step:
                    hold = plan.phases[-1]
                    profile = Profile(server.pid, t0 + hold.start, min(hold.end - hold.start, 60), step_dir)
                    profile.start()
                try:
                    watch(proc, plan, t0)
                finally:
                    sampler.stop.set()
                    if proc.poll() is None:
                        os.killpg(proc.pid, signal.SIGTERM)  # Locust writes its statistics, then exits
                        proc.wait(timeout=60)
                stats_file = step_dir / "locust.json"
                stats = json.loads(stats_file.read_text()) if stats_file.exists() else []
                measured = steps_of(plan, t0, stats, read_failures(step_dir / "locust_failures.csv"), sampler)
                if not measured:
                    say(f"--- {locust_log} ---\n" + locust_log.read_text(errors="replace")[-3000:])
                    raise RuntimeError("Locust wrote no statistics for the hold")
                step = measured[0]
                steps.append(step)
                if profile is not None:
                    profile.join()
                    step.profile = profile.report()
                    say(f"  where the server's Python time went during the hold ({users} users):\n{step.profile}")
                if step.sign_ins != users:
                    say(f"  warning: {step.sign_ins} users signed in during the ramp, not {users}")
                say(
                    f"  {users} users: {step.per_s:.1f} req/s, p50 {step.p50_ms:.0f} ms, p95 {step.p95_ms:.0f} ms, "
                    f"p99 {step.p99_ms:.0f} ms, {step.failures} failures, slowest {step.worst}; server "
                    f"{step.server_cores:.2f} cores {step.server_rss_mib:.0f} MiB, Locust {step.locust_cores:.2f} "
                    f"cores; {'pass' if step.passed else 'FAIL'} (load {procs.load()})"
                )
                if too_slow(step, args):
                    stopped = f"stopped after {users} users: p95 {step.p95_ms:.0f} ms, {step.failures} failures"
                    say(f"  {stopped}")
                    break
    if args.keep:
        kept = Path(args.keep) / kind
        shutil.copytree(out, kept, dirs_exist_ok=True, ignore=shutil.ignore_patterns("data"))
        shutil.copy(log, kept)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    return Result(
        database=kind if kind == "sqlite" else "postgres+redis",
        workers=workers,
        commit=commit.stdout.strip(),
        started=time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(started)),
        plan={
            "steps": args.steps,
            "spawn_rate": args.spawn_rate,
            "settle_s": args.settle,
            "hold_s": args.hold,
            "locust_processes": args.processes,
            "messages_per_user": args.messages,
            "postgres": "" if kind == "sqlite" else "own cluster" if args.own_postgres else "shared server",
        },
        seed=seeds,
        steps=steps,
        largest_passing=max((s.users for s in steps if s.passed), default=0),
        stopped_early=stopped,
        machine=web.machine(),
    )


def watch(proc: subprocess.Popen[bytes], plan: Plan, t0: float) -> None:
    """Wait for Locust, saying which phase the run is in."""
    shown = ""
    while proc.poll() is None:
        phase = plan.at(max(time.time() - t0, 0))
        if phase is not None and phase.label != shown:
            shown = phase.label
            say(f"  {time.strftime('%H:%M:%S')} {phase.label} (load {procs.load()})")
        if time.time() - t0 > plan.seconds + 120:
            say("  Locust did not stop on time: stopping it")
            os.killpg(proc.pid, signal.SIGTERM)
        time.sleep(1)


# --------------------------------------------------------------------------- report


def report(result: Result) -> str:
    lines = [
        f"\n{result.database} ({result.workers} web worker(s)), commit {result.commit}, {result.started}",
        "| users | web req/s | p50 ms | p95 ms | p99 ms | slowest request (p95) | failures | sign-ins p95 ms | "
        "IMAP connected | server cores | server RSS MiB | PostgreSQL cores | Locust cores | load avg | pass |",
        "|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|:---:|",
    ]
    for s in result.steps:
        lines.append(
            f"| {s.users} | {s.per_s:.1f} | {s.p50_ms:.0f} | {s.p95_ms:.0f} | {s.p99_ms:.0f} | {s.worst} | "
            f"{s.failures} | {s.sign_in_p95_ms:.0f} | {s.imap_connected} | {s.server_cores:.2f} | "
            f"{s.server_rss_mib:.0f} | {'-' if s.database_cores is None else s.database_cores} | "
            f"{s.locust_cores:.2f} | {s.loadavg:.1f} | {'✓' if s.passed else '✗'} |"
        )
    lines.append(f"\nlargest passing step: {result.largest_passing} users. {result.stopped_early}")
    for s in result.steps:
        lines.append(f"\n{s.users} users, per request ({s.seconds:.0f} s):")
        lines.append("| request | kind | count | /s | p50 ms | p95 ms | p99 ms | max ms | failures |")
        lines.append("|---|---|---:|---:|---:|---:|---:|---:|---:|")
        for r in s.requests_by_name:
            lines.append(
                f"| {r.name} | {r.kind} | {r.requests} | {r.per_s:.2f} | {r.p50_ms:.0f} | {r.p95_ms:.0f} | "
                f"{r.p99_ms:.0f} | {r.max_ms:.0f} | {r.failures} |"
            )
        for e in s.errors[:10]:
            lines.append(f"  error: {e}")
    return "\n".join(lines)


def save(path: Path, results: list[Result]) -> dict[str, Any]:
    """Merge into ``path``: one entry per database, the others kept."""
    kept: dict[str, Any] = json.loads(path.read_text()) if path.exists() else {}
    for r in results:
        kept[r.database] = asdict(r)
    path.write_text(json.dumps(kept, indent=1, ensure_ascii=False) + "\n")
    return kept


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--database", default="sqlite,postgres", help="sqlite, postgres or both")
    p.add_argument("--steps", default="50,100,150,200,300,400,500,750,1000,1500,2000", help="users at each step")
    p.add_argument("--spawn-rate", type=float, default=5.0, help="users started per second in a ramp")
    p.add_argument("--settle", type=float, default=30.0, help="seconds between a ramp and its hold")
    p.add_argument("--hold", type=float, default=90.0, help="seconds measured at each step")
    p.add_argument(
        "--processes",
        type=int,
        default=1,
        help="Locust processes (one is enough: it uses a few hundredths of a core; with several, a worker "
        "slowed down by a loaded machine misses its heartbeats and the master starts its users again elsewhere)",
    )
    p.add_argument("--workers", type=int, default=0, help="server workers (default: hexagone serve's)")
    p.add_argument("--messages", type=int, default=20, help="messages in each user's INBOX")
    p.add_argument("--seed-jobs", type=int, default=8, help="mailboxes filled at the same time when seeding")
    p.add_argument("--abort-p95-ms", type=float, default=2000.0, help="no larger step after a p95 above this")
    p.add_argument(
        "--pg-admin",
        default=os.environ.get("BENCH_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/postgres"),
        help="where to CREATE and DROP the benchmark's PostgreSQL database",
    )
    p.add_argument(
        "--own-postgres",
        action="store_true",
        help="run PostgreSQL in a cluster of the benchmark's own (initdb, its default settings) instead of --pg-admin",
    )
    p.add_argument("--profile-step", type=int, default=0, help="sample the server with py-spy during this step")
    p.add_argument("--redis", default="redis://127.0.0.1:6379/0", help="the event bus of the PostgreSQL runs")
    p.add_argument("--json", type=Path, default=ROOT / "docs" / "users-per-box.json")
    p.add_argument("--chart", type=Path, default=ROOT / "docs" / "users-per-box.svg")
    p.add_argument("--keep", help="copy Locust's files and the logs into this directory")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    # Started in the background, this process may have inherited an ignored SIGINT, which
    # the servers and Locust would inherit in turn: they are stopped with it.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    args.steps = [int(n) for n in args.steps.split(",")]
    kinds = [k.strip() for k in args.database.split(",") if k.strip()]
    limit = procs.raise_open_files(OPEN_FILES)
    say(f"open files: {limit} per process; load average {procs.load()}")
    results = []
    with tempfile.TemporaryDirectory(prefix="hexagone-users-") as tmp:
        for kind in kinds:
            result = bench_database(kind, args, Path(tmp))
            say(report(result))
            results.append(result)
    merged = save(args.json, results)
    say(f"\nfigures written to {args.json}")
    draw(merged, args.chart)
    say(f"chart written to {args.chart}")


if __name__ == "__main__":
    main()
