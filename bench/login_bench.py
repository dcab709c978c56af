"""What a sign-in costs (issue 15, logins), against the peers on the same machine:

* IMAP LOGIN and SMTP AUTH PLAIN (submission), one client signing in again and again:
  Hexagone with every password verified (``HEXAGONE_LOGIN_CACHE_SECONDS=0``, "cold"), with
  the verification remembered in process and through Redis ("cached"), against Dovecot's
  IMAP LOGIN with a ``{PLAIN}`` passwd-file (what ``bench/mail`` runs: no hash at all), with
  argon2id hashes of Hexagone's parameters, and with those plus its auth cache;
* web sign-ins per second per busy core (``POST /login`` with wrk and ``login.lua``, which
  always verify the password) against Keycloak's sizing rule of 15 per vCPU.

Each LOGIN or AUTH is timed alone, from the command to its answer, on a fresh connection
(connecting and the greeting are not counted), ``--rounds`` times; the server's CPU over
those rounds divided by their number is printed beside the latency. Hexagone is migrated
and seeded once (``hexagone demo``), then served once per configuration. Run as root
(Dovecot's master switches users), with the project's venv:

    .venv/bin/python bench/login_bench.py [--rounds 200] [--database sqlite|postgres]
                                          [--redis redis://127.0.0.1:6379/0] [--web-seconds 15]
"""

from __future__ import annotations

import argparse
import base64
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from argon2 import PasswordHasher

sys.path.insert(0, str(Path(__file__).resolve().parent / "mail"))

import dovecot
from imap_wire import Connection
from procs import free_port, load, tree_cpu, wait_port, web

from hexagone.core.config import Settings

USER = web.DEMO_USER
PASSWORD = web.DEMO_PASSWORD
TARGET_MS = 5.0  # a repeated protocol sign-in
DEFAULTS = Settings.model_fields
PLAIN = "Dovecot IMAP LOGIN, {PLAIN} passwd-file"  # the peers, as printed
ARGON2 = "Dovecot IMAP LOGIN, argon2id, every password verified"
CACHE = "Dovecot IMAP LOGIN, argon2id, auth cache"


def say(text: str) -> None:
    print(text, flush=True)


# --------------------------------------------------------------------------- one sign-in


def imap_login(port: int, user: str, password: str, sign_in: bool = True) -> float:
    """Milliseconds from LOGIN to its tagged OK, on a new connection (greeting, CAPABILITY,
    LOGIN, LOGOUT); without ``sign_in``, the same session without LOGIN, for the baseline."""
    conn = Connection("127.0.0.1", port, timeout=60)
    try:
        started = time.perf_counter()
        if sign_in:
            conn.command(f'LOGIN "{user}" "{password}"')
        elapsed = time.perf_counter() - started
        conn.command("LOGOUT", check=False)
        return 1000 * elapsed
    finally:
        conn.sock.close()


def smtp_auth(port: int, user: str, password: str, sign_in: bool = True) -> float:
    """Milliseconds from AUTH PLAIN to its 235, on a new connection (greeting, EHLO, AUTH,
    QUIT); without ``sign_in``, the same session without AUTH, for the baseline."""
    with socket.create_connection(("127.0.0.1", port), timeout=60) as sock:
        reader = sock.makefile("rb")

        def reply() -> bytes:
            while (line := reader.readline())[3:4] == b"-":
                pass
            return line

        reply()  # greeting
        sock.sendall(b"EHLO bench.test\r\n")
        reply()
        token = base64.b64encode(f"\0{user}\0{password}".encode())
        started = time.perf_counter()
        if sign_in:
            sock.sendall(b"AUTH PLAIN " + token + b"\r\n")
            answer = reply()
            if not answer.startswith(b"235"):
                raise RuntimeError(f"AUTH refused: {answer!r}")
        elapsed = time.perf_counter() - started
        sock.sendall(b"QUIT\r\n")
        reply()
        return 1000 * elapsed


@dataclass
class Figures:
    name: str
    median_ms: float
    p90_ms: float
    cpu_ms: float  # the server's CPU time per session with a sign-in
    login_cpu_ms: float  # that, less the CPU of the same session without the sign-in
    load: str


def server_cpu_ms(pid: int, rounds: int, attempt: Callable[[], float]) -> tuple[float, list[float]]:
    cpu = tree_cpu(pid)
    times = [attempt() for _ in range(rounds)]
    return 1000 * (tree_cpu(pid) - cpu) / rounds, times


def measure(name: str, pid: int, rounds: int, attempt: Callable[..., float]) -> Figures:
    """``attempt(sign_in=False)`` is the session without its sign-in: the difference of
    the two CPU figures is what the sign-in itself costs the server."""
    attempt()  # the first one verifies and fills the cache, whatever the configuration
    cpu_ms, times = server_cpu_ms(pid, rounds, attempt)
    baseline_ms, _ = server_cpu_ms(pid, rounds, partial(attempt, sign_in=False))
    times.sort()
    figures = Figures(
        name, statistics.median(times), times[int(0.9 * len(times))], cpu_ms, cpu_ms - baseline_ms, load()
    )
    say(
        f"  {name:58} median {figures.median_ms:7.2f} ms  p90 {figures.p90_ms:7.2f} ms  "
        f"server CPU {cpu_ms:6.2f} ms per session, {figures.login_cpu_ms:6.2f} ms for the sign-in  "
        f"(load {figures.load})"
    )
    return figures


# --------------------------------------------------------------------------- Hexagone


class Hexagone:
    """A migrated and seeded data directory, served with one environment at a time."""

    def __init__(self, root: Path, database: web.Database):
        self.root = root
        self.log = root / "hexagone.log"
        (root / "data").mkdir(parents=True)
        self.env = web.hexagone_env(root / "data", database)
        web.prepare(self.env, self.log)

    def serve(self, **extra: str) -> tuple[web.Server, int, int]:
        http, imap, submission = free_port(), free_port(), free_port()
        env = (
            self.env
            | extra
            | {
                "HEXAGONE_HTTP_PORT": str(http),
                "HEXAGONE_IMAP_PORT": str(imap),
                "HEXAGONE_SMTP_PORT": str(free_port()),
                "HEXAGONE_SUBMISSION_PORT": str(submission),
                "HEXAGONE_MANAGESIEVE_PORT": str(free_port()),
            }
        )
        argv = [web.HEXAGONE, "serve", "--port", str(http), "--workers", "1"]
        server = web.Server(argv, env, http, "/healthz", self.log)
        return server, imap, submission


def bench_hexagone(args: argparse.Namespace, hexagone: Hexagone) -> list[Figures]:
    configurations = [("every password verified", {"HEXAGONE_LOGIN_CACHE_SECONDS": "0"}), ("cached in process", {})]
    if args.redis:
        configurations.append(("cached in Redis", {"HEXAGONE_PUBSUB_URL": args.redis}))
    rows: list[Figures] = []
    for label, extra in configurations:
        server, imap, submission = hexagone.serve(**extra)
        with server:
            wait_port(imap, server.proc, hexagone.log)
            wait_port(submission, server.proc, hexagone.log)
            rows.append(
                measure(
                    f"Hexagone IMAP LOGIN, {label}",
                    server.pid,
                    args.rounds,
                    partial(imap_login, imap, USER, PASSWORD),
                )
            )
            rows.append(
                measure(
                    f"Hexagone SMTP AUTH, {label}",
                    server.pid,
                    args.rounds,
                    partial(smtp_auth, submission, USER, PASSWORD),
                )
            )
    return rows


def bench_web_logins(args: argparse.Namespace, hexagone: Hexagone, database: str) -> list[web.Login]:
    server, _imap, _submission = hexagone.serve()
    run = web.Run("hexagone", "granian", 1, database)
    with server:
        web.measure_logins(
            run, server, argparse.Namespace(login_concurrency=args.web_concurrency, login_duration=args.web_seconds)
        )
    return run.logins


# --------------------------------------------------------------------------- Dovecot


class HashedDovecot(dovecot.Dovecot):
    """Dovecot whose passwd-file holds argon2id hashes made with Hexagone's default
    parameters (libsodium verifies them), optionally with its authentication cache."""

    def __init__(self, root: Path, port: int, users: dict[str, str], cache: bool):
        super().__init__(root, port, users, connections=10)
        self.cache = cache

    def __enter__(self) -> HashedDovecot:
        super().__enter__()
        hasher = PasswordHasher(
            time_cost=DEFAULTS["password_hash_time_cost"].default,
            memory_cost=DEFAULTS["password_hash_memory_kib"].default,
            parallelism=DEFAULTS["password_hash_parallelism"].default,
        )
        lines = [
            f"{user}:{{ARGON2ID}}{hasher.hash(password)}:{self.uid}:{self.gid}::{self.home(user)}::"
            for user, password in self.users.items()
        ]
        (self.root / "passwd").write_text("\n".join(lines) + "\n")  # Dovecot reads it again when it changes
        if self.cache:
            with self.config.open("a") as config:
                config.write("auth_cache_size = 10M\nauth_cache_ttl = 1 hour\n")
            assert self.proc is not None
            self.proc.send_signal(signal.SIGHUP)  # the master reloads its configuration
            time.sleep(2)
            wait_port(self.port, self.proc, self.root / "dovecot.log")
        return self


def bench_dovecot(args: argparse.Namespace, tmp: Path) -> list[Figures]:
    if why := dovecot.available():
        say(f"  Dovecot skipped: {why}")
        return []
    users = {USER: PASSWORD}
    servers = [
        (PLAIN, dovecot.Dovecot(tmp / "dovecot-plain", free_port(), users, 10)),
        (ARGON2, HashedDovecot(tmp / "dovecot-argon2", free_port(), users, cache=False)),
        (CACHE, HashedDovecot(tmp / "dovecot-cache", free_port(), users, cache=True)),
    ]
    rows = []
    for label, server in servers:
        with server:
            rows.append(measure(label, server.pid, args.rounds, partial(imap_login, server.port, USER, PASSWORD)))
    return rows


# --------------------------------------------------------------------------- report


def cpu(row: Figures) -> str:
    return f"{row.cpu_ms:.2f}, {row.login_cpu_ms:.2f}"


def table(ours: list[Figures], peers: list[Figures], logins: list[web.Login]) -> str:
    """Each of our rows beside its peer: a verified sign-in beside Dovecot verifying the
    same argon2id hash, a cached one beside Dovecot's cheapest (a plain-text password)."""
    by_name = {f.name: f for f in peers}
    lines = []
    if ours or peers:
        lines += [
            "| sign-in | median ms | p90 ms | server CPU ms: session, sign-in | peer | peer median ms "
            "| peer CPU ms: session, sign-in | peer ÷ ours, time | peer ÷ ours, sign-in CPU | under 5 ms |",
            "|---|---:|---:|---:|---|---:|---:|---:|---:|:---:|",
        ]
    for row in ours:
        cold = "every password verified" in row.name
        peer = by_name.get(ARGON2 if cold else PLAIN)
        mark = "" if cold else ("✓" if row.median_ms < TARGET_MS else "✗")
        if peer is None:
            lines.append(f"| {row.name} | {row.median_ms:.2f} | {row.p90_ms:.2f} | {cpu(row)} | - | | | | | {mark} |")
            continue
        lines.append(
            f"| {row.name} | {row.median_ms:.2f} | {row.p90_ms:.2f} | {cpu(row)} | "
            f"{peer.name.removeprefix('Dovecot IMAP LOGIN, ')} | {peer.median_ms:.2f} | {cpu(peer)} | "
            f"{peer.median_ms / row.median_ms:.2f} | {peer.login_cpu_ms / max(row.login_cpu_ms, 0.01):.2f} | {mark} |"
        )
    lines += [f"| {row.name} | {row.median_ms:.2f} | {row.p90_ms:.2f} | {cpu(row)} | | | | | | |" for row in peers]
    if logins:
        lines += [
            "",
            "| web sign-ins, concurrency | logins/s | server cores busy | logins/s per core | ÷ Keycloak's 15 "
            "| p50 ms | p99 ms | errors |",
            "|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        lines += [
            f"| {x.concurrency} | {x.logins_per_s} | {x.server_cores_busy} | {x.logins_per_core_s} | "
            f"{x.keycloak_ratio} | {x.p50_ms:.0f} | {x.p99_ms:.0f} | {x.errors} |"
            for x in logins
        ]
    return "\n".join(lines)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rounds", type=int, default=200, help="sign-ins timed per configuration")
    p.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    p.add_argument(
        "--pg-admin", default=os.environ.get("BENCH_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/postgres")
    )
    p.add_argument("--redis", default="redis://127.0.0.1:6379/0", help="empty to skip the Redis configuration")
    p.add_argument("--web-seconds", type=float, default=15)
    p.add_argument("--web-concurrency", type=lambda s: [int(x) for x in s.split(",")], default=[1, 2, 4])
    p.add_argument("--parts", type=lambda s: s.split(","), default=["protocols", "web", "peers"])
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    say(
        f"argon2id defaults: m={DEFAULTS['password_hash_memory_kib'].default} KiB, "
        f"t={DEFAULTS['password_hash_time_cost'].default}, p={DEFAULTS['password_hash_parallelism'].default}; "
        f"load {load()}; commit {subprocess.run(['git', 'rev-parse', '--short', 'HEAD'], capture_output=True, text=True).stdout.strip()}"
    )
    ours: list[Figures] = []
    peers: list[Figures] = []
    logins: list[web.Login] = []
    with tempfile.TemporaryDirectory(prefix="hexagone-login-bench-") as name:
        tmp = Path(name)
        os.chmod(tmp, 0o755)  # Dovecot's service users must reach their directories
        if {"protocols", "web"} & set(args.parts):
            with web.database(args.database, args.pg_admin) as database:
                hexagone = Hexagone(tmp / "hexagone", database)
                if "protocols" in args.parts:
                    ours = bench_hexagone(args, hexagone)
                if "web" in args.parts:
                    logins = bench_web_logins(args, hexagone, database.name)
        if "peers" in args.parts:
            peers = bench_dovecot(args, tmp)
    say("")
    say(table(ours, peers, logins))


if __name__ == "__main__":
    main()
