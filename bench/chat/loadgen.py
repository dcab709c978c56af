"""One load-generator process: many WebSocket clients (the ``websockets`` library) in one
asyncio loop, started by ``run.py`` through ``multiprocessing`` (spawn).

Each client connects (the session cookie and a same-origin ``Origin`` for Hexagone,
nothing for the bare server), then reads frames. A frame that carries the benchmark's
mark (``bench p=<phase> k=<n> t=<ns>``, in the message's text) gives one latency:
``time.monotonic_ns()`` at receipt minus the ``t`` the sender put in the text.
``CLOCK_MONOTONIC`` is one clock for every process of the machine on Linux, so sender
and receivers need no synchronisation. The receipt time is taken as soon as ``recv``
returns, before any parsing; the frame is not parsed as JSON, only searched for the mark.

Talks to ``run.py`` over a pipe: ``("connected", ok, failed, seconds)`` once every
client tried to connect, ``("done", phase, k)`` when all of this process's clients
received message *k* of a phase; on ``"report"`` it sends its latencies and counters, on
``"close"`` it closes its clients and exits.
"""

from __future__ import annotations

import asyncio
import os
import re
import resource
import time
from collections import defaultdict
from multiprocessing.connection import Connection
from typing import Any

MARK = re.compile(r"bench p=(\w) k=(\d+) t=(\d+)")
CONNECT_AT_ONCE = 25


def main(pipe: Connection, clients: list[tuple[str, dict[str, str]]]) -> None:
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    asyncio.run(LoadGen(pipe, clients).run())


class LoadGen:
    def __init__(self, pipe: Connection, clients: list[tuple[str, dict[str, str]]]) -> None:
        self.pipe = pipe
        self.clients = clients
        self.latencies: dict[str, list[int]] = defaultdict(list)  # phase → ns
        self.received: dict[tuple[str, int], int] = defaultdict(int)
        self.sockets: list[Any] = []
        self.closed: dict[str, int] = defaultdict(int)  # close code → clients
        self.frames = 0
        self.frame_bytes = 0
        self.stop = asyncio.Event()
        self.expected = len(clients)

    async def run(self) -> None:
        from websockets.asyncio.client import connect

        loop = asyncio.get_running_loop()
        loop.add_reader(self.pipe.fileno(), self.command)
        gate = asyncio.Semaphore(CONNECT_AT_ONCE)
        failed = 0
        started = time.monotonic()

        async def open_one(url: str, headers: dict[str, str]) -> None:
            nonlocal failed
            async with gate:
                for _attempt in range(3):
                    try:
                        socket = await connect(
                            url, additional_headers=headers, compression=None, open_timeout=60, ping_interval=None,
                            max_queue=None,
                        )  # fmt: skip
                        break
                    except (OSError, TimeoutError, Exception):
                        await asyncio.sleep(0.5)
                else:
                    failed += 1
                    return
            self.sockets.append(socket)
            readers.append(asyncio.create_task(self.read(socket)))

        readers: list[asyncio.Task[None]] = []
        await asyncio.gather(*(open_one(url, headers) for url, headers in self.clients))
        self.expected = len(self.sockets)
        self.pipe.send(("connected", len(self.sockets), failed, time.monotonic() - started))
        await self.stop.wait()
        await asyncio.gather(*(s.close() for s in self.sockets), return_exceptions=True)
        for task in readers:
            task.cancel()
        self.pipe.send(("closed",))

    async def read(self, socket: Any) -> None:
        from websockets.exceptions import ConnectionClosed

        mark, now_ns, received, latencies = MARK.search, time.monotonic_ns, self.received, self.latencies
        try:
            while True:
                frame = await socket.recv()
                now = now_ns()
                self.frames += 1
                self.frame_bytes += len(frame)
                found = mark(frame)
                if found is None:
                    continue
                phase, k, sent = found.group(1), int(found.group(2)), int(found.group(3))
                latencies[phase].append(now - sent)
                key = (phase, k)
                received[key] += 1
                if received[key] == self.expected:
                    self.pipe.send(("done", phase, k))
        except ConnectionClosed as error:
            code = error.rcvd.code if error.rcvd is not None else 1006
            self.closed[str(code)] += 1

    def command(self) -> None:
        what = self.pipe.recv()
        if what == "report":
            self.pipe.send(
                (
                    "report",
                    {
                        "latencies": dict(self.latencies),
                        "received": {f"{p}:{k}": n for (p, k), n in self.received.items()},
                        "closed": dict(self.closed),
                        "frames": self.frames,
                        "frame_bytes": self.frame_bytes,
                        "rss_kib": _rss_kib(),
                    },
                )
            )
        elif what == "reset":
            self.latencies.clear()
            self.received.clear()
        elif what == "close":
            self.stop.set()


def _rss_kib() -> int:
    with open(f"/proc/{os.getpid()}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0
