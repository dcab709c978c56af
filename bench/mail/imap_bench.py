"""The IMAP measures, run the same way against any server: FETCH of headers, of the
message-list items a client such as Thunderbird asks for, and of whole bodies, over the
whole mailbox in UID ranges of ``chunk`` messages (as clients page through a large
mailbox); then each SEARCH of ``messages.SEARCHES``. Each measure is repeated and the
median kept; every repetition must return every message, or the run fails.

Besides the rates, the server's CPU time per message (FETCH) or per search is recorded:
on a machine shared with other work the rates move with the neighbours' load, the CPU
cost much less, and the ratio of CPU costs is what the throughput ratio would be if both
servers were CPU-bound on an idle machine.
"""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import messages
from imap_wire import Connection, ImapError, signed_in
from messages import SEARCHES
from procs import load, tree_cpu

MIN_BATCH_S = 0.3  # a search is repeated in a batch that lasts at least this long

FETCHES = [  # name, items, whether MiB/s means something
    ("FETCH headers", "BODY.PEEK[HEADER]", True),
    ("FETCH message list", "UID FLAGS INTERNALDATE RFC822.SIZE ENVELOPE", False),
    ("FETCH full bodies", "BODY.PEEK[]", True),
]
FULL_BODIES = "BODY.PEEK[]"


@dataclass
class Rate:
    name: str
    command: str
    seconds: list[float] = field(default_factory=list)  # one per repetition
    cpu: list[float] = field(default_factory=list)  # server CPU seconds, one per repetition
    items: int = 0  # messages fetched, or search hits
    literal_bytes: int = 0  # per repetition
    wrong: bool = False  # the server's answer was wrong: the figure does not count

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)

    @property
    def per_s(self) -> float:
        """Messages per second for a FETCH; searches per second for a SEARCH."""
        return (self.items if self.per_message else 1) / self.median

    @property
    def mib_per_s(self) -> float:
        return self.literal_bytes / 2**20 / self.median

    @property
    def cpu_ms(self) -> float:
        """Server CPU milliseconds per message (FETCH) or per search (SEARCH)."""
        per = self.items if self.per_message else 1
        return 1000 * statistics.median(self.cpu) / max(per, 1)

    @property
    def per_message(self) -> bool:
        return self.command.startswith(("FETCH", "APPEND"))


@dataclass
class ImapFigures:
    server: str
    messages: int
    first_select_s: float  # a server that indexes on first access pays for it here
    fetches: list[Rate]
    searches: list[Rate]
    load: str  # load average at the end
    append: Rate | None = None  # APPEND of more messages into the loaded folder, at the end
    problems: list[str] = field(default_factory=list)  # wrong answers: the figures above them do not count


def chunks(uids: list[int], size: int) -> list[str]:
    return [f"{uids[i]}:{uids[min(i + size, len(uids)) - 1]}" for i in range(0, len(uids), size)]


def fetch_all(conn: Connection, ranges: list[str], items: str) -> tuple[float, int, int]:
    """One pass over the mailbox: seconds, FETCH responses, literal bytes."""
    responses = literal = 0
    t0 = time.perf_counter()
    for uid_range in ranges:
        answer = conn.command(f"UID FETCH {uid_range} ({items})")
        responses += answer.untagged
        literal += answer.literal_bytes
    return time.perf_counter() - t0, responses, literal


def measure(
    server: str,
    port: int,
    pid: int,
    user: str,
    password: str,
    mailbox: str,
    *,
    repeat: int,
    chunk: int,
    expected_bytes: int,
    append: int = 0,
    seed: int = 2026,
    say: Callable[[str], None] = print,
) -> ImapFigures:
    """``expected_bytes`` is the size of all the messages loaded: a FETCH of full bodies
    must return exactly that, or the server is fast because it answers wrong."""
    conn = signed_in(port, user, password)
    t0 = time.perf_counter()
    exists = conn.select(mailbox)
    first_select = time.perf_counter() - t0
    uids = conn.uids()
    if len(uids) != exists:
        raise ImapError(f"{server}: SEARCH ALL found {len(uids)} of {exists} messages")
    ranges = chunks(uids, chunk)
    say(f"  {server}: {exists} messages, first SELECT {first_select:.2f} s (load {load()})")
    fetches, problems = [], []
    for name, items, per_byte in FETCHES:
        rate = Rate(name, f"FETCH {items}")
        for _ in range(repeat):
            cpu0 = tree_cpu(pid)
            seconds, responses, literal = fetch_all(conn, ranges, items)
            rate.cpu.append(tree_cpu(pid) - cpu0)
            if responses < exists:
                raise ImapError(f"{server}: {name} returned {responses} of {exists} messages")
            rate.seconds.append(seconds)
            rate.items, rate.literal_bytes = exists, literal
        if items == FULL_BODIES and rate.literal_bytes != expected_bytes:
            rate.wrong = True
            problems.append(
                f"{server}: FETCH {items} returned {rate.literal_bytes} bytes of messages, "
                f"not the {expected_bytes} loaded"
            )
            say(f"  WRONG: {problems[-1]}")
        fetches.append(rate)
        volume = f"{rate.mib_per_s:8.1f} MiB/s" if per_byte else " " * 13
        say(
            f"  {server}: {name:20} {rate.per_s:9.0f} msg/s {volume} server CPU {rate.cpu_ms * 1000:6.0f} µs/msg "
            f"(runs {', '.join(f'{s:.2f}' for s in rate.seconds)} s; load {load()})"
        )
    searches = []
    for name, criteria in SEARCHES:
        rate = Rate(name, f"SEARCH {criteria}")
        t0 = time.perf_counter()
        conn.search(criteria)  # a first run sizes the batches: CPU times tick every 10 ms
        batch = max(1, math.ceil(MIN_BATCH_S / max(time.perf_counter() - t0, 1e-4)))
        for _ in range(repeat):
            cpu0, t0 = tree_cpu(pid), time.perf_counter()
            for _ in range(batch):
                hits = conn.search(criteria)
            rate.seconds.append((time.perf_counter() - t0) / batch)
            rate.cpu.append((tree_cpu(pid) - cpu0) / batch)
            rate.items = len(hits)
        searches.append(rate)
        say(
            f"  {server}: SEARCH {name:18} {rate.per_s:9.1f} /s   {rate.items} hits, server CPU {rate.cpu_ms:.1f} ms "
            f"(runs {', '.join(f'{s * 1000:.0f}' for s in rate.seconds)} ms)"
        )
    appended = None
    if append:
        appended = Rate("APPEND", "APPEND")
        cpu0, t0 = tree_cpu(pid), time.perf_counter()
        refused = conn.append(mailbox, messages.mailbox(append, seed + 1))
        appended.seconds.append(time.perf_counter() - t0)
        appended.cpu.append(tree_cpu(pid) - cpu0)
        appended.items = append - len(refused)
        say(
            f"  {server}: APPEND {append} more messages (pipelined): {appended.per_s:.0f} msg/s, "
            f"server CPU {appended.cpu_ms:.2f} ms/msg, {len(refused)} refused"
        )
    conn.logout()
    return ImapFigures(server, exists, first_select, fetches, searches, load(), appended, problems)
