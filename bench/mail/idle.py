"""Memory per idle IMAP connection: the server's memory (every process of its tree) before
and after N clients have logged in, selected INBOX and entered IDLE (a plain selected
session where the server does not offer IDLE), divided by N.

RSS counts a page shared by several processes once per process, which overstates the cost
of a process-per-connection server such as Dovecot; PSS shares those pages out. Both are
reported. Every connection is checked to be still alive after the measure.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from imap_wire import Connection, ImapError, signed_in
from procs import Memory, load, memory, raise_open_files

SETTLE_S = 3.0  # login processes exit and allocators settle before the second reading


@dataclass
class IdleFigures:
    server: str
    connections: int
    mode: str  # IDLE or SELECTED
    open_s: float
    before: Memory
    after: Memory
    alive: int  # connections that still answered after the measure
    load: str

    @property
    def rss_kib_per_connection(self) -> float:
        return (self.after.rss_mib - self.before.rss_mib) * 1024 / self.connections

    @property
    def pss_kib_per_connection(self) -> float:
        return (self.after.pss_mib - self.before.pss_mib) * 1024 / self.connections


def open_idle(port: int, user: str, password: str) -> tuple[Connection, bytes | None]:
    conn = signed_in(port, user, password)
    conn.select("INBOX")
    if "IDLE" not in conn.capabilities:
        return conn, None
    tag = conn.send("IDLE")
    ready = conn.read_line()
    if not ready.startswith(b"+"):
        raise ImapError(f"IDLE refused: {ready!r}")
    return conn, tag


def leave(conn: Connection, tag: bytes | None) -> bool:
    """End IDLE (or NOOP) and log out; True if the server answered OK."""
    try:
        if tag is not None:
            conn.sock.sendall(b"DONE\r\n")
            ok = conn.wait(tag).status == b"OK"
        else:
            ok = conn.command("NOOP", check=False).status == b"OK"
        conn.logout()
        return ok
    except (ImapError, OSError):
        return False


def measure(
    server: str,
    port: int,
    pid: int,
    user: str,
    password: str,
    *,
    connections: int,
    threads: int = 8,
    say: Callable[[str], None] = print,
) -> IdleFigures:
    raise_open_files(connections + 200)
    before = memory(pid)
    t0 = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        opened = list(pool.map(lambda _: open_idle(port, user, password), range(connections)))
    open_s = time.perf_counter() - t0
    time.sleep(SETTLE_S)
    after = memory(pid)
    with ThreadPoolExecutor(threads) as pool:
        alive = sum(pool.map(lambda pair: leave(*pair), opened))
    mode = "IDLE" if opened and opened[0][1] is not None else "SELECTED"
    figures = IdleFigures(server, connections, mode, open_s, before, after, alive, load())
    say(
        f"  {server}: {connections} connections ({mode}) opened in {open_s:.1f} s; "
        f"RSS {before.rss_mib} → {after.rss_mib} MiB ({before.processes} → {after.processes} processes), "
        f"PSS {before.pss_mib} → {after.pss_mib} MiB: {figures.rss_kib_per_connection:.0f} KiB RSS, "
        f"{figures.pss_kib_per_connection:.0f} KiB PSS per connection; {alive} still alive (load {figures.load})"
    )
    return figures
