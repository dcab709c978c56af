"""The IMAP measures, run the same way against any server: FETCH of headers, of the
message-list items a client such as Thunderbird asks for, and of whole bodies, over the
whole mailbox in UID ranges of ``chunk`` messages (as clients page through a large
mailbox); then each SEARCH of ``messages.SEARCHES``. Each measure is repeated and the
median kept; every repetition must return every message, or the run fails.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from imap_wire import Connection, ImapError
from messages import SEARCHES
from procs import load

FETCHES = [
    ("FETCH headers", "BODY.PEEK[HEADER]"),
    ("FETCH message list", "UID FLAGS INTERNALDATE RFC822.SIZE ENVELOPE"),
    ("FETCH full bodies", "BODY.PEEK[]"),
]


@dataclass
class Rate:
    name: str
    command: str
    seconds: list[float] = field(default_factory=list)  # one per repetition
    items: int = 0  # messages fetched, or search hits
    literal_bytes: int = 0  # per repetition

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)

    @property
    def per_s(self) -> float:
        """Messages per second for a FETCH; searches per second for a SEARCH."""
        return (self.items if self.command.startswith("FETCH") else 1) / self.median

    @property
    def mib_per_s(self) -> float:
        return self.literal_bytes / 2**20 / self.median


@dataclass
class ImapFigures:
    server: str
    messages: int
    first_select_s: float  # a server that indexes on first access pays for it here
    fetches: list[Rate]
    searches: list[Rate]
    load: str  # load average at the end


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


def measure(server: str, port: int, user: str, password: str, mailbox: str, *, repeat: int, chunk: int,
            say: Callable[[str], None] = print) -> ImapFigures:
    conn = Connection("127.0.0.1", port)
    conn.login(user, password)
    t0 = time.perf_counter()
    exists = conn.select(mailbox)
    first_select = time.perf_counter() - t0
    uids = conn.uids()
    if len(uids) != exists:
        raise ImapError(f"{server}: SEARCH ALL found {len(uids)} of {exists} messages")
    ranges = chunks(uids, chunk)
    say(f"  {server}: {exists} messages, first SELECT {first_select:.2f} s (load {load()})")
    fetches = []
    for name, items in FETCHES:
        rate = Rate(name, f"FETCH {items}")
        for _ in range(repeat):
            seconds, responses, literal = fetch_all(conn, ranges, items)
            if responses < exists:
                raise ImapError(f"{server}: {name} returned {responses} of {exists} messages")
            rate.seconds.append(seconds)
            rate.items, rate.literal_bytes = exists, literal
        fetches.append(rate)
        volume = f"{rate.mib_per_s:8.1f} MiB/s" if rate.literal_bytes else " " * 13
        say(f"  {server}: {name:20} {rate.per_s:9.0f} msg/s {volume} "
            f"(runs {', '.join(f'{s:.2f}' for s in rate.seconds)} s; load {load()})")
    searches = []
    for name, criteria in SEARCHES:
        rate = Rate(name, f"SEARCH {criteria}")
        for _ in range(repeat):
            t0 = time.perf_counter()
            hits = conn.search(criteria)
            rate.seconds.append(time.perf_counter() - t0)
            rate.items = len(hits)
        searches.append(rate)
        say(f"  {server}: SEARCH {name:18} {rate.per_s:9.1f} /s   {rate.items} hits "
            f"(runs {', '.join(f'{s * 1000:.0f}' for s in rate.seconds)} ms)")
    conn.logout()
    return ImapFigures(server, exists, first_select, fetches, searches, load())
