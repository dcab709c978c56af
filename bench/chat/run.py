"""The chat's fan-out benchmark (issue: bench/chat/): N WebSocket clients on loopback,
spread over several load-generator processes, one channel with all of them in it.

    .venv/bin/python bench/chat/run.py --clients 1000,5000 --configs one,redis,nats,bare

Configurations (``--configs``): ``one`` is one ``hexagone serve`` process
(``HEXAGONE_WORKERS=1``, ``HEXAGONE_PUBSUB_URL=memory://``); ``redis`` and ``nats`` are
two such processes on two ports sharing the database, over ``redis://127.0.0.1:6379/0``
or ``nats://127.0.0.1:4222`` (the recipients alternate between them, the senders use the
first); ``bare`` is ``bare_server.py``, a ``websockets`` broadcast server, the ceiling.
All are given the same load by the same load generator (``loadgen.py``).

For each configuration and each N, in order:

1. **memory**: the servers' RSS (their process trees, ``/proc``) with only the senders
   connected, then with the N clients too: (after − before) ÷ N is the memory per
   connection;
2. **latency** (phase ``L``): ``--messages`` messages, one at a time: a sender (they take
   turns, under the post limit of 5 a second per person) posts one with
   ``time.monotonic_ns()`` in its text and waits for its ``posted``; the next leaves when
   every client has received it (each load generator says so) and ``--gap`` has passed.
   p50/p99 over every receipt (messages × N), and of the time to the last receipt of each
   message; the senders' post → ``posted`` round trip is the posting latency;
3. **throughput** (phase ``T``): each of the ``--senders`` posting
   its share one after the other as fast as the acknowledgements come back (about
   ``--burst-deliveries`` ÷ N messages in all; a share stays under the post limit's
   burst of 15); from the first post to the last
   receipt: messages/s and deliveries/s (messages × N), and the latency under that load;
4. for ``one`` with N = ``--history-at`` (1,000): ``--history`` requests of
   ``GET /api/v1/chat/channels/{id}/messages?limit=50`` one after the other, with the N
   clients connected and idle; the channel holds the ``--seed-messages`` (10,000).

The data (one organisation, one channel, ``max(N) + senders`` members with open
sessions, 10,000 messages) is made once by ``seed.py`` in ``--data`` (kept, and reused by
the next run if it is there: ``--data /var/tmp/chatbench``). SQLite by default;
``--database postgres`` makes a database on ``--pg-admin`` (dropped at the end) and seeds
it each run.

Prints one table per N (p50/p99 in ms; "×bare" is the p99 divided by the bare server's),
the load average when each measure ended, and writes ``--json``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import multiprocessing as mp
import os
import secrets
import signal
import subprocess
import sys
import time
import traceback
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "mail"))
sys.path.insert(0, str(HERE))

import httpx  # noqa: E402
import loadgen  # noqa: E402
from procs import free_port, load, raise_open_files, wait_port, web  # noqa: E402

from hexagone.core.auth import SESSION_COOKIE as COOKIE  # noqa: E402

BUSES = {"one": "memory://", "redis": "redis://127.0.0.1:6379/0", "nats": "nats://127.0.0.1:4222"}
TARGET_RATIO = 2.0  # p99 no worse than twice the bare server's
TARGET_KIB = 30.0  # server memory per connection
TARGET_POST_MS = 20.0
TARGET_HISTORY_MS = 50.0


# --------------------------------------------------------------------------- processes


def rss_kib(pid: int) -> int:
    """The RSS of a server's process tree, in KiB (VmRSS of each, from /proc)."""
    total = 0
    for process in web.live_tree(pid):
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{process.pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
    return total


@dataclass
class Running:
    name: str
    bases: list[str]  # one per server process
    pids: list[int]
    hexagone: bool
    stack: contextlib.ExitStack = field(default_factory=contextlib.ExitStack)

    def rss(self) -> int:
        return sum(rss_kib(pid) for pid in self.pids)


def hexagone_env(data: Path, db: Any, bus: str, server: str = "granian", memprobe: bool = False) -> dict[str, str]:
    env = web.hexagone_env(data, db, server)
    if memprobe:  # tracemalloc in every server process, dumped on SIGUSR2 (memprobe/sitecustomize.py)
        env["PYTHONPATH"] = str(HERE / "memprobe") + os.pathsep + env.get("PYTHONPATH", "")
        env["PYTHONTRACEMALLOC"] = "1"
        env["CHATBENCH_MEMPROBE"] = str(data / "memprobe")
    env["HEXAGONE_SECRET_KEY"] = (data / "secret_key").read_text().strip()
    env["HEXAGONE_WORKERS"] = "1"
    env["HEXAGONE_PUBSUB_URL"] = bus
    return env


def start(config: str, data: Path, db: Any, log: Path, server: str = "granian", memprobe: bool = False) -> Running:
    stack = contextlib.ExitStack()
    if config == "bare":
        port = free_port()
        out = log.open("ab")
        proc = subprocess.Popen(
            [sys.executable, str(HERE / "bare_server.py"), "--port", str(port)],
            stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip

        def stop() -> None:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

        stack.callback(stop)
        wait_port(port, proc, log)
        return Running("bare", [f"http://127.0.0.1:{port}"], [proc.pid], False, stack)
    count = 1 if config == "one" else 2
    bases, pids = [], []
    for _ in range(count):
        port = free_port()
        env = hexagone_env(data, db, BUSES[config], server, memprobe)
        for key in ("IMAP", "SMTP", "SUBMISSION", "MANAGESIEVE"):  # out of the way of other runs
            env[f"HEXAGONE_{key}_PORT"] = str(free_port())
        LIVE_PORTS[f"http://127.0.0.1:{port}"] = live_port = free_port()
        env["HEXAGONE_LIVE_PORT"] = str(live_port)
        env["HEXAGONE_BASE_URL"] = f"http://127.0.0.1:{port}"  # the pages' origin, which the live server checks
        started = stack.enter_context(
            web.Server([web.HEXAGONE, "serve", "--port", str(port), "--workers", "1"], env, port, "/healthz", log)
        )
        bases.append(started.base)
        pids.append(started.pid)
    return Running(config, bases, pids, True, stack)


def seed(data: Path, db: Any, users: int, messages: int, log: Path) -> dict[str, Any]:
    seeded = data / "seed.json"
    if seeded.exists():
        found = json.loads(seeded.read_text())
        if len(found["cookies"]) >= users:
            return dict(found)
        raise SystemExit(f"{seeded} has {len(found['cookies'])} users, {users} wanted: use another --data")
    data.mkdir(parents=True, exist_ok=True)
    (data / "secret_key").write_text(secrets.token_urlsafe(48))
    env = hexagone_env(data, db, "memory://")
    with log.open("ab") as out:
        subprocess.run([web.HEXAGONE, "migrate"], env=env, cwd=web.ROOT, check=True, stdout=out, stderr=out)
        subprocess.run(
            [sys.executable, str(HERE / "seed.py"), "--users", str(users), "--messages", str(messages), "--out", str(seeded)],
            env=env, cwd=web.ROOT, check=True, stdout=out, stderr=out,
        )  # fmt: skip
    return dict(json.loads(seeded.read_text()))


# --------------------------------------------------------------------------- the load


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def probe(running: Running) -> None:
    """Ask every server process for its tracemalloc snapshot (``--memprobe``)."""
    for pid in running.pids:
        for process in web.live_tree(pid):
            with contextlib.suppress(OSError):
                os.kill(process.pid, signal.SIGUSR2)


class Sender:
    """One sender's socket: posts and waits for the acknowledgement (``posted`` with its
    ``ref`` from Hexagone, ``posted`` from the bare server, which answers in order)."""

    def __init__(self, socket: Any, hexagone: bool, channel: str) -> None:
        self.socket, self.hexagone, self.channel = socket, hexagone, channel
        self.waiting: dict[str, asyncio.Future[None]] = {}
        self.fifo: list[asyncio.Future[None]] = []
        self.errors: list[str] = []
        self.reader = asyncio.create_task(self.read())

    async def read(self) -> None:
        try:
            await self._read()
        finally:  # the socket closed: whoever waits for an answer will not get one
            closed = RuntimeError(f"sender socket closed ({self.socket.close_code} {self.socket.close_reason})")
            for waiter in [*self.waiting.values(), *self.fifo]:
                if not waiter.done():
                    waiter.set_exception(closed)
            self.errors.append(str(closed))

    async def _read(self) -> None:
        async for frame in self.socket:
            if '"type":"posted"' not in frame and '"type":"error"' not in frame:
                continue
            if not self.hexagone:
                if self.fifo:
                    self.fifo.pop(0).set_result(None)
                continue
            answer = json.loads(frame)
            waiter = self.waiting.pop(str(answer.get("ref")), None)
            if answer.get("type") == "error":
                self.errors.append(f"{answer.get('status')} {answer.get('error')}")
                if waiter is not None and not waiter.done():
                    waiter.set_exception(RuntimeError(f"post refused: {answer.get('status')} {answer.get('error')}"))
            elif waiter is not None and not waiter.done():
                waiter.set_result(None)

    async def post(self, text: str, pad: int, timeout: float = 60) -> float:
        """Post; the seconds to the acknowledgement."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        started = time.monotonic()
        if self.hexagone:
            ref = uuid.uuid4().hex
            self.waiting[ref] = future
            frame = {"type": "post", "channel": self.channel, "text": text, "client_id": ref, "ref": ref}
            await self.socket.send(json.dumps(frame))
        else:
            self.fifo.append(future)
            await self.socket.send(text.ljust(pad, "."))
        await asyncio.wait_for(future, timeout)
        return time.monotonic() - started


class Generators:
    """The load-generator processes and their pipes."""

    def __init__(self, processes: int, clients: list[tuple[str, dict[str, str]]]) -> None:
        ctx = mp.get_context("spawn")
        self.pipes, self.procs = [], []
        shares = [clients[i::processes] for i in range(processes)]
        for share in shares:
            ours, theirs = ctx.Pipe()
            proc = ctx.Process(target=loadgen.main, args=(theirs, share), daemon=True)
            proc.start()
            self.pipes.append(ours)
            self.procs.append(proc)
        self.done: dict[tuple[str, int], int] = {}
        self.events: asyncio.Queue[tuple[Any, ...]] = asyncio.Queue()
        loop = asyncio.get_running_loop()
        for pipe in self.pipes:
            loop.add_reader(pipe.fileno(), self._heard, pipe)
        self.changed = asyncio.Event()

    def _heard(self, pipe: Any) -> None:
        with contextlib.suppress(EOFError, OSError):
            message = pipe.recv()
            if message[0] == "done":
                key = (message[1], message[2])
                self.done[key] = self.done.get(key, 0) + 1
                self.changed.set()
            else:
                self.events.put_nowait(message)

    async def collect(self, kind: str) -> list[tuple[Any, ...]]:
        found = []
        while len(found) < len(self.pipes):
            message = await asyncio.wait_for(self.events.get(), 600)
            if message[0] == kind:
                found.append(message)
        return found

    async def all_done(self, phase: str, ks: list[int], timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while not all(self.done.get((phase, k), 0) == len(self.pipes) for k in ks):
            self.changed.clear()
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.changed.wait(), left)
        return True

    def send(self, what: str) -> None:
        for pipe in self.pipes:
            pipe.send(what)

    async def report(self) -> dict[str, Any]:
        self.send("report")
        reports = [m[1] for m in await self.collect("report")]
        latencies: dict[str, list[int]] = {}
        closed: dict[str, int] = {}
        for r in reports:
            for phase, values in r["latencies"].items():
                latencies.setdefault(phase, []).extend(values)
            for code, n in r["closed"].items():
                closed[code] = closed.get(code, 0) + n
        frames = sum(r["frames"] for r in reports)
        return {
            "latencies": latencies,
            "closed": closed,
            "frame_bytes": sum(r["frame_bytes"] for r in reports) / max(1, frames),
            "loadgen_rss_kib": sum(r["rss_kib"] for r in reports),
        }

    async def close(self) -> None:
        with contextlib.suppress(OSError):
            self.send("close")
            await asyncio.wait_for(self.collect("closed"), 60)
        loop = asyncio.get_running_loop()
        for pipe, proc in zip(self.pipes, self.procs, strict=True):
            loop.remove_reader(pipe.fileno())
            proc.join(10)
            if proc.is_alive():
                proc.kill()


# The live sockets' port (core/live.py) of each Hexagone server started, by its base URL.
LIVE_PORTS: dict[str, int] = {}


def ws_url(base: str, hexagone: bool) -> str:
    if hexagone:
        return f"ws://127.0.0.1:{LIVE_PORTS[base]}/chat/live"
    return base.replace("http://", "ws://") + "/"


def client_spec(base: str, cookie: str | None) -> tuple[str, dict[str, str]]:
    if cookie is None:
        return ws_url(base, False), {}
    return ws_url(base, True), {"Cookie": f"{COOKIE}={cookie}", "Origin": base}


async def measure(running: Running, n: int, seeded: dict[str, Any], args: argparse.Namespace) -> dict[str, Any]:
    from websockets.asyncio.client import connect

    result: dict[str, Any] = {"config": running.name, "clients": n}
    cookies = seeded["cookies"]
    sender_cookies = cookies[-args.senders :]
    recipients = cookies[:n]
    channel = seeded["channel"]
    hexagone = running.hexagone
    first = running.bases[0]
    senders = []
    for cookie in sender_cookies:
        url, headers = client_spec(first, cookie if hexagone else None)
        socket = await connect(url, additional_headers=headers, compression=None, ping_interval=None, max_queue=None)
        if hexagone:
            assert '"hello"' in await socket.recv()
        senders.append(Sender(socket, hexagone, channel))
    # warm-up: a message through every path before memory and latency are measured
    for i, sender in enumerate(senders[:3]):
        await sender.post(f"warm-up {i}", args.pad)
    await asyncio.sleep(1)
    before = running.rss()
    if args.memprobe:
        probe(running)
    specs = [
        client_spec(running.bases[i % len(running.bases)], cookie if hexagone else None)
        for i, cookie in enumerate(recipients)
    ]
    started = time.monotonic()
    gens = Generators(args.processes, specs)
    try:
        connected = await gens.collect("connected")
        ok = sum(m[1] for m in connected)
        failed = sum(m[2] for m in connected)
        result["connect_s"] = time.monotonic() - started
        result["connected"], result["failed"] = ok, failed
        await asyncio.sleep(2)
        after = running.rss()
        result["rss_before_kib"], result["rss_after_kib"] = before, after
        result["kib_per_connection"] = (after - before) / max(1, ok)
        result["load_connect"] = load()
        print(f"  {running.name} N={n}: {ok} connected ({failed} failed) in {result['connect_s']:.1f} s, "
              f"RSS {before / 1024:.0f} → {after / 1024:.0f} MiB, {result['kib_per_connection']:.1f} KiB each, "
              f"load {load()}", flush=True)  # fmt: skip
        if args.memprobe:
            probe(running)
            await asyncio.sleep(20)
        if args.memprobe or args.memory_only:
            return result

        # latency: one message at a time
        acks: list[float] = []
        last: list[float] = []
        missing = 0
        k_count = args.messages if n <= args.history_at else args.messages_large
        for k in range(k_count):
            sender = senders[k % len(senders)]
            sent = time.monotonic_ns()
            acks.append(await sender.post(f"bench p=L k={k} t={sent} ", args.pad))
            if not await gens.all_done("L", [k], 60):
                missing += 1
            last.append((time.monotonic_ns() - sent) / 1e6)
            await asyncio.sleep(args.gap)
        result["load_latency"] = load()
        result["ack_ms"] = [a * 1000 for a in acks]
        result["last_receipt_ms"] = last
        result["latency_missing_messages"] = missing
        print(f"  {running.name} N={n}: {k_count} messages one at a time: post→ack p50/p99 "
              f"{pct(result['ack_ms'], 0.5):.1f} / {pct(result['ack_ms'], 0.99):.1f} ms, last receipt p50/p99 "
              f"{pct(last, 0.5):.0f} / {pct(last, 0.99):.0f} ms, {missing} incomplete, load {load()}", flush=True)  # fmt: skip

        # throughput: every sender posts its share as fast as acknowledgements come
        share = max(1, min(15, args.burst_deliveries // (ok * len(senders))))
        t0 = time.monotonic()
        refused: list[str] = []
        acknowledged: list[int] = []

        async def post_share(j: int, sender: Sender) -> None:
            for i in range(share):
                k = j * share + i
                try:
                    await sender.post(f"bench p=T k={k} t={time.monotonic_ns()} ", args.pad, timeout=300)
                    acknowledged.append(k)
                except (RuntimeError, TimeoutError) as error:
                    refused.append(f"{type(error).__name__} {error}")

        await asyncio.gather(*(post_share(j, s) for j, s in enumerate(senders)))
        posted_s = time.monotonic() - t0
        complete = await gens.all_done("T", acknowledged, 300) and not refused
        result["burst_refused"] = refused[:10]
        result["burst_refused_count"] = len(refused)
        elapsed = time.monotonic() - t0
        total = share * len(senders)
        result.update(
            burst_messages=total,
            burst_complete=complete,
            burst_posting_s=posted_s,
            burst_s=elapsed,
            messages_per_s=total / elapsed,
            deliveries_per_s=total * ok / elapsed,
            load_throughput=load(),
        )
        result["rss_end_kib"] = running.rss()
        report = await gens.report()
        lat = report["latencies"]
        ms = {p: [v / 1e6 for v in values] for p, values in lat.items()}
        result["latency_ms"] = {
            p: {"n": len(v), "p50": pct(v, 0.5), "p99": pct(v, 0.99), "max": max(v) if v else None}
            for p, v in ms.items()
        }
        result["expected_receipts"] = {"L": k_count * ok, "T": total * ok}
        result["closed"] = report["closed"]
        result["frame_bytes"] = report["frame_bytes"]
        result["loadgen_rss_kib"] = report["loadgen_rss_kib"]
        result["sender_errors"] = [e for s in senders for e in s.errors][:10]

        if running.name == "one" and n == args.history_at and args.history:
            result["history_ms"] = await history(first, seeded, args.history)
            result["load_history"] = load()
    finally:
        await gens.close()
        for sender in senders:
            sender.reader.cancel()
            await sender.socket.close()
    return result


async def history(base: str, seeded: dict[str, Any], count: int) -> list[float]:
    path = f"/api/v1/chat/channels/{seeded['channel']}/messages?limit=50"
    cookies = {COOKIE: seeded["admin_cookie"]}
    times = []
    async with httpx.AsyncClient(base_url=base, cookies=cookies, timeout=30) as client:
        for i in range(count + 5):
            started = time.monotonic()
            response = await client.get(path)
            elapsed = (time.monotonic() - started) * 1000
            response.raise_for_status()
            if i == 0:
                assert len(response.json()) == 50, response.text[:200]
            if i >= 5:  # the first few warm up
                times.append(elapsed)
    return times


# --------------------------------------------------------------------------- report


def summarise(results: list[dict[str, Any]]) -> str:
    lines = []
    bare = {r["clients"]: r for r in results if r["config"] == "bare"}
    for n in sorted({r["clients"] for r in results}):
        lines.append(f"\n{n:,} clients")
        lines.append(
            "| server | p50 ms | p99 ms | p99 ×bare | last receipt p50/p99 ms | post→ack p50/p99 ms "
            "| burst: msgs/s | deliveries/s | p50/p99 under burst ms | KiB/conn | lost/closed | load |"
        )
        lines.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|")
        for r in [r for r in results if r["clients"] == n]:
            lat = r["latency_ms"].get("L", {})
            burst = r["latency_ms"].get("T", {})
            ref = bare.get(n, {}).get("latency_ms", {}).get("L", {}).get("p99")
            ratio = f"{lat['p99'] / ref:.2f}" if ref and lat.get("p99") and r["config"] != "bare" else ""
            if ratio:
                ratio += " ✓" if float(ratio) <= TARGET_RATIO else " ✗"
            lost = {p: r["expected_receipts"][p] - r["latency_ms"].get(p, {}).get("n", 0) for p in ("L", "T")}
            kib = r["kib_per_connection"]
            lines.append(
                f"| {r['config']} | {lat.get('p50', 0):.1f} | {lat.get('p99', 0):.1f} | {ratio} "
                f"| {pct(r['last_receipt_ms'], 0.5):.0f} / {pct(r['last_receipt_ms'], 0.99):.0f} "
                f"| {pct(r['ack_ms'], 0.5):.1f} / {pct(r['ack_ms'], 0.99):.1f} "
                f"| {r['messages_per_s']:.1f} | {r['deliveries_per_s']:,.0f} "
                f"| {burst.get('p50', 0):.0f} / {burst.get('p99', 0):.0f} "
                f"| {kib:.1f}{' ✓' if kib < TARGET_KIB else ' ✗'}"
                f"| {lost['L']}+{lost['T']} / {r['closed'] or '-'} | {r['load_throughput']} |"
            )
        for r in [r for r in results if r["clients"] == n and "history_ms" in r]:
            h = r["history_ms"]
            lines.append(
                f"history, 50 messages, {len(h)} requests ({r['config']}, {n} clients connected): "
                f"p50 {pct(h, 0.5):.1f} ms, p99 {pct(h, 0.99):.1f} ms"
                f"{' ✓' if pct(h, 0.99) < TARGET_HISTORY_MS else ' ✗'} (load {r['load_history']})"
            )
        for r in [r for r in results if r["clients"] == n and r["config"] != "bare"]:
            a = r["ack_ms"]
            lines.append(
                f"posting over the socket ({r['config']}): {len(a)} posts, p50 {pct(a, 0.5):.1f} ms, "
                f"p99 {pct(a, 0.99):.1f} ms{' ✓' if pct(a, 0.99) < TARGET_POST_MS else ' ✗'}"
            )
    return "\n".join(lines)


async def main_async(args: argparse.Namespace, db: Any) -> list[dict[str, Any]]:
    results: list[dict[str, Any]] = []
    sizes = [int(x) for x in args.clients.split(",")]
    log = args.data / "bench.log"
    seeded = seed(args.data, db, max(sizes) + args.senders, args.seed_messages, log)
    for config in args.configs.split(","):
        for n in sizes:
            running = start(config, args.data, db, log, args.server, args.memprobe)
            with running.stack:
                print(f"{config} N={n}: servers {running.bases}, load {load()}", flush=True)
                try:
                    result = await measure(running, n, seeded, args)
                except Exception:
                    traceback.print_exc()
                    continue
                result["database"] = args.database
                result["server"] = args.server
                results.append(result)
                if args.memprobe or args.memory_only:
                    continue
                lat = result["latency_ms"].get("L", {})
                print(
                    f"  latency p50 {lat.get('p50', 0):.1f} ms p99 {lat.get('p99', 0):.1f} ms, "
                    f"ack p50 {pct(result['ack_ms'], 0.5):.1f} p99 {pct(result['ack_ms'], 0.99):.1f} ms, "
                    f"burst {result['messages_per_s']:.1f} msgs/s ({result['deliveries_per_s']:,.0f} deliveries/s), "
                    f"frames {result['frame_bytes']:.0f} B, closed {result['closed']}, sender errors {result['sender_errors']}, load {load()}",
                    flush=True,
                )
            if args.json:
                args.json.write_text(json.dumps(results, indent=1))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", default="1000,5000", help="comma-separated N")
    parser.add_argument("--configs", default="bare,one,redis,nats")
    parser.add_argument("--processes", type=int, default=4, help="load-generator processes")
    parser.add_argument("--senders", type=int, default=20)
    parser.add_argument("--messages", type=int, default=200, help="latency messages, N ≤ --history-at")
    parser.add_argument("--messages-large", type=int, default=40, help="latency messages above --history-at")
    parser.add_argument("--gap", type=float, default=0.05, help="seconds between two latency messages")
    parser.add_argument(
        "--burst-deliveries", type=int, default=100_000,
        help="throughput phase: about this many deliveries (messages × N), 1 to 15 messages per sender",
    )  # fmt: skip
    parser.add_argument("--history", type=int, default=200)
    parser.add_argument("--history-at", type=int, default=1000)
    parser.add_argument("--pad", type=int, default=0, help="bare frames padded to this length (0: Hexagone's)")
    parser.add_argument("--seed-messages", type=int, default=10_000)
    parser.add_argument("--data", type=Path, default=Path("/var/tmp/chatbench"))
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--pg-admin", default="postgresql://postgres@127.0.0.1/test")
    parser.add_argument("--server", choices=("granian", "uvicorn"), default="granian", help="Hexagone's ASGI server")
    parser.add_argument(
        "--memprobe", action="store_true",
        help="only the memory step, with tracemalloc in the servers: snapshots in DATA/memprobe.<pid>.<n>",
    )  # fmt: skip
    parser.add_argument("--memory-only", action="store_true", help="only the memory step")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    if not args.pad:
        args.pad = 530  # about the size of Hexagone's message frame for these texts (measured: 522 B on average)
    raise_open_files(20000)
    with web.database(args.database, args.pg_admin) as db:  # a new PostgreSQL database, dropped at the end
        if db.url:
            args.data = Path(args.data) / f"pg-{secrets.token_hex(3)}"
        args.data.mkdir(parents=True, exist_ok=True)
        results = asyncio.run(main_async(args, db))
    if not (args.memprobe or args.memory_only):
        print(summarise(results))


if __name__ == "__main__":
    main()
