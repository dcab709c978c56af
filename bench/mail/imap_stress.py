"""IMAP under concurrent load, the same way against any server, in the spirit of Dovecot's
``imaptest``: ``clients`` connections for ``seconds``, each running whole sessions one after
the other on one shared folder:

    LOGIN, SELECT, UID FETCH of the message list (the last ``LIST_SIZE`` messages:
    FLAGS INTERNALDATE RFC822.SIZE ENVELOPE), UID FETCH BODY.PEEK[] of one of them,
    UID SEARCH (SUBJECT and UNSEEN), UID STORE +FLAGS (\\Seen) on one message,
    UID STORE +FLAGS (\\Deleted) on the oldest, EXPUNGE, APPEND of one message, LOGOUT.

Each session adds one message and removes about one, so the folder keeps its size. The
figures are full sessions in the time, and the latency of each command (median and 95th
percentile over every client). Every client is a thread of this process on the same
machine as the server: the client's own cost is a socket call and a few hundred bytes
parsed per command (``imap_wire``), small beside a server's.

LOGIN is measured too but belongs to the password hash (``bench/login_bench.py``): a
server that checks an argon2id hash per login spends most of a session there.
"""

from __future__ import annotations

import random
import re
import statistics
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

import messages
from imap_wire import Connection, ImapError, signed_in
from procs import load, tree_cpu

UID = re.compile(rb"[( ]UID (\d+)")
LIST_SIZE = 20  # messages of the message list a session fetches
COMMANDS = ("LOGIN", "SELECT", "FETCH", "FETCH BODY", "SEARCH", "STORE", "EXPUNGE", "APPEND", "LOGOUT")


@dataclass
class StressFigures:
    server: str
    clients: int
    seconds: float
    sessions: int  # full sessions completed in the time
    errors: list[str]
    latencies_ms: dict[str, list[float]] = field(default_factory=dict)  # command -> every latency
    cpu_s: float = 0.0  # server CPU seconds during the run
    load: str = ""

    @property
    def sessions_per_s(self) -> float:
        return self.sessions / self.seconds

    def median_ms(self, command: str) -> float | None:
        values = self.latencies_ms.get(command)
        return statistics.median(values) if values else None

    def p95_ms(self, command: str) -> float | None:
        values = sorted(self.latencies_ms.get(command) or [])
        return values[min(len(values) - 1, int(0.95 * len(values)))] if values else None

    def rate(self, command: str) -> float | None:
        """What one connection gets of this command per second under the load: the
        inverse of its median latency (comparable between servers, unlike counts, which
        follow the sessions' mix)."""
        median = self.median_ms(command)
        return 1000 / median if median else None

    def per_s(self, command: str) -> float:
        """Commands of this kind completed per second (all clients)."""
        return len(self.latencies_ms.get(command) or []) / self.seconds

    @property
    def cpu_ms_per_session(self) -> float:
        return 1000 * self.cpu_s / max(self.sessions, 1)


def _uids(answer_lines: list[bytes]) -> list[int]:
    return [int(m.group(1)) for line in answer_lines if (m := UID.search(line))]


def _session(
    port: int, user: str, password: str, folder: str, data: bytes, rng: random.Random, timed: Callable
) -> None:
    conn = timed("LOGIN", lambda: signed_in(port, user, password))
    try:
        exists = timed("SELECT", lambda: conn.select(folder))
        if exists:
            first = max(1, exists - LIST_SIZE + 1)
            listed = timed(
                "FETCH",
                lambda: conn.command(f"FETCH {first}:* (UID FLAGS INTERNALDATE RFC822.SIZE ENVELOPE)", keep=True),
            )
            uids = sorted(_uids(listed.lines))
            if uids:
                one = rng.choice(uids)
                timed("FETCH BODY", lambda: conn.command(f"UID FETCH {one} (BODY.PEEK[])"))
                timed("SEARCH", lambda: conn.search("SUBJECT budget"))
                timed("SEARCH", lambda: conn.search("UNSEEN"))
                timed("STORE", lambda: conn.command(f"UID STORE {rng.choice(uids)} +FLAGS.SILENT (\\Seen)"))
                oldest = conn.command("UID SEARCH ALL", keep=True)
                every = sorted(int(w) for line in oldest.lines for w in line.split()[2:] if w.isdigit())
                if every:
                    timed("STORE", lambda: conn.command(f"UID STORE {every[0]} +FLAGS.SILENT (\\Deleted)"))
                timed("EXPUNGE", lambda: conn.command("EXPUNGE"))
        timed("APPEND", lambda: _append(conn, folder, data))
    finally:
        timed("LOGOUT", conn.logout)


def _append(conn: Connection, folder: str, data: bytes) -> None:
    literal = "+" if "LITERAL+" in conn.capabilities else ""
    tag = conn.send(f'APPEND "{folder}" {{{len(data)}{literal}}}'.encode() + (b"\r\n" + data if literal else b""))
    if not literal:
        ready = conn.read_line()
        while ready.startswith(b"* "):
            ready = conn.read_line()
        conn.sock.sendall(data + b"\r\n")
    answer = conn.wait(tag)
    if answer.status != b"OK":
        raise ImapError(f"APPEND: {answer.status.decode()} {answer.text.decode(errors='replace')}")


def measure(
    server: str,
    port: int,
    pid: int,
    user: str,
    password: str,
    folder: str,
    *,
    clients: int = 10,
    seconds: float = 30,
    seed: int = 2026,
    say: Callable[[str], None] = print,
) -> StressFigures:
    """Run the load; the folder must exist and hold some messages (``prepare``)."""
    data = next(m.data for m in messages.mailbox(50, seed) if 4000 < len(m.data) < 8000)
    latencies: dict[str, list[float]] = defaultdict(list)
    errors: list[str] = []
    sessions = [0]
    lock = threading.Lock()
    stop_at = time.perf_counter() + seconds

    def client(index: int) -> None:
        rng = random.Random(seed * 100 + index)
        mine: dict[str, list[float]] = defaultdict(list)

        def timed(command: str, call: Callable) -> object:
            t0 = time.perf_counter()
            result = call()
            mine[command].append(1000 * (time.perf_counter() - t0))
            return result

        done = 0
        while time.perf_counter() < stop_at:
            try:
                _session(port, user, password, folder, data, rng, timed)
                done += 1
            except (ImapError, OSError) as error:
                with lock:
                    errors.append(str(error)[:200])
                time.sleep(0.05)
        with lock:
            sessions[0] += done
            for command, values in mine.items():
                latencies[command] += values

    cpu0 = tree_cpu(pid)
    t0 = time.perf_counter()
    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - t0
    figures = StressFigures(
        server, clients, elapsed, sessions[0], errors, dict(latencies), tree_cpu(pid) - cpu0, load()
    )
    say(
        f"  {server}: IMAP stress {clients} clients × {seconds:.0f} s: {figures.sessions} sessions "
        f"({figures.sessions_per_s:.1f}/s), server CPU {figures.cpu_ms_per_session:.1f} ms/session, "
        f"{len(errors)} errors (load {figures.load})"
    )
    for command in COMMANDS:
        if figures.latencies_ms.get(command):
            say(
                f"    {command:10} {figures.per_s(command):8.1f}/s  median {figures.median_ms(command):8.2f} ms  "
                f"p95 {figures.p95_ms(command):8.2f} ms"
            )
    for error in errors[:5]:
        say(f"    error: {error}")
    return figures
