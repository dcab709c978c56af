"""Hexagone's CalDAV/CardDAV server against Radicale, through the standard protocols only
(RFC 4791, RFC 6352, RFC 6578, RFC 6764 discovery), so that it runs against any server.

For each target: discovery (``/.well-known/caldav`` and ``/.well-known/carddav`` ->
current-user-principal -> calendar-home-set / addressbook-home-set), a new calendar
(MKCALENDAR) and address book (extended MKCOL) in those homes, loaded with ``dataset.py``'s
10,000 events and 10,000 contacts by one PUT each (their latency is measured), then, one
httpx client (HTTP/1.1 keep-alive), a warm-up and then repetitions of:

1. calendar-query REPORT with a time-range of one week and of one month at random
   positions in the three years, returning calendar-data;
2. the same with ``<C:expand>``;
3. calendar-multiget of 100 random hrefs;
4. sync-collection REPORT with an empty token over the events and over the contacts;
   then 10 changes in each (6 edited, 2 created, 2 deleted) and the incremental sync
   from the token of the initial one;
5. PUT of one new event.

Every measure stops after ``--repeat`` repetitions or ``--max-seconds``, whichever comes
first (at least ``--min-repeat``). Figures: p50 and p99 in ms, the objects returned, and
the server's CPU ms per request (its process tree, from psutil) when it runs here.

    .venv/bin/python bench/calendar/run.py --target radicale|hexagone|both [--json FILE]
        [--events 10000] [--contacts 10000] [--repeat 30] [--max-seconds 120]
        [--url URL --user USER --password PASSWORD]   # an already running server as "hexagone"
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import platform
import random
import shutil
import signal
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

import dataset
import dav
import httpx
import servers
from servers import load, tree_cpu

CHANGES = 10  # before the incremental sync: 6 edited, 2 created, 2 deleted
MULTIGET = 100


def say(text: str) -> None:
    print(text, flush=True)


def percentile(values: list[float], q: float) -> float:
    """Nearest rank: the smallest value with at least ``q`` of the values at or below it."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


@dataclass
class Figure:
    ms: list[float] = field(default_factory=list)  # one per request
    items: list[int] = field(default_factory=list)  # D:response elements (objects) per request
    components: list[int] = field(default_factory=list)  # VEVENTs in the answers (expanded instances)
    cpu_ms: float | None = None  # server CPU per request
    failures: list[str] = field(default_factory=list)

    @property
    def p50(self) -> float | None:
        return percentile(self.ms, 0.5) if self.ms else None

    @property
    def p99(self) -> float | None:
        return percentile(self.ms, 0.99) if self.ms else None

    def summary(self) -> dict[str, object]:
        out: dict[str, object] = {"n": len(self.ms), "p50_ms": self.p50, "p99_ms": self.p99, "cpu_ms": self.cpu_ms}
        if self.ms:
            out |= {"mean_ms": sum(self.ms) / len(self.ms), "max_ms": max(self.ms)}
        if self.items:
            out |= {"items_median": percentile([float(i) for i in self.items], 0.5), "items_total": sum(self.items)}
        if self.components:
            out["components_median"] = percentile([float(c) for c in self.components], 0.5)
        if self.failures:
            out["failures"] = self.failures[:20]
            out["failure_count"] = len(self.failures)
        return out

    def line(self) -> str:
        if not self.ms:
            return "no sample" + (f", {len(self.failures)} failures: {self.failures[0]}" if self.failures else "")
        text = f"n={len(self.ms)} p50 {self.p50:.1f} ms, p99 {self.p99:.1f} ms"
        if self.items:
            text += f", objects median {percentile([float(i) for i in self.items], 0.5):.0f}"
            text += f" (min {min(self.items)}, max {max(self.items)})"
        if self.components:
            text += f", VEVENTs median {percentile([float(c) for c in self.components], 0.5):.0f}"
        if self.cpu_ms is not None:
            text += f", server CPU {self.cpu_ms:.1f} ms/request"
        if self.failures:
            text += f", {len(self.failures)} failures (first: {self.failures[0]})"
        return text


@dataclass
class Side:
    name: str
    version: str = ""
    base: str = ""
    collections: dict[str, str] = field(default_factory=dict)
    load_s: dict[str, float] = field(default_factory=dict)  # wall time of each load
    figures: dict[str, Figure] = field(default_factory=dict)
    error: str = ""
    notes: list[str] = field(default_factory=list)
    load_average: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------- measuring


class Bench:
    def __init__(self, side: Side, client: dav.Client, t: servers.Target, args: argparse.Namespace):
        self.side, self.client, self.pid, self.storage, self.args = side, client, t.pid, t.storage, args

    def cpu(self) -> float:
        return tree_cpu(self.pid) if self.pid else 0.0

    def repeat(self, key: str, step: Callable[[int], tuple[float, int, int]], repeat: int | None = None) -> Figure:
        """Warm-up, then ``step(i)`` (-> seconds, objects, components) until ``repeat`` samples
        or ``--max-seconds`` (with at least ``--min-repeat``)."""
        args, figure = self.args, Figure()
        repeat = repeat or args.repeat
        for i in range(args.warmup):
            step(i)
        cpu0, t0, i = self.cpu(), time.monotonic(), args.warmup
        self.side.figures[key] = figure  # kept, as far as it got, if the run is interrupted
        while len(figure.ms) < repeat:
            if len(figure.ms) >= args.min_repeat and time.monotonic() - t0 > args.max_seconds:
                break
            seconds, items, components = step(i)
            figure.ms.append(seconds * 1000)
            figure.items.append(items)
            if components >= 0:
                figure.components.append(components)
            i += 1
        if self.pid:
            figure.cpu_ms = (self.cpu() - cpu0) * 1000 / len(figure.ms)
        say(f"  {key}: {figure.line()}")
        return figure

    # ----------------------------------------------------------------------- the measures

    def load(self, key: str, collection: str, items: list[dataset.Item], content_type: str) -> None:
        """PUT the first ``--put-load`` objects (all by default), measuring each; write the
        others straight into the server's storage folder when it has one (Radicale), as
        ``bench/mail`` writes Dovecot's Maildir, or PUT them too."""
        count = len(items) if self.args.put_load is None else min(self.args.put_load, len(items))
        self._put_all(key, collection, items[:count], content_type)
        rest = items[count:]
        if rest and self.storage:
            folder = self.storage / collection.strip("/")
            t0 = time.perf_counter()
            for item in rest:
                (folder / item.name).write_bytes(item.data)
            self.side.load_s[f"{key}, written into the storage"] = time.perf_counter() - t0
            self.side.notes.append(f"{key}: {count} by PUT, {len(rest)} written into {folder}")
            say(f"  {len(rest)} more written into {folder} in {time.perf_counter() - t0:.1f} s")
        elif rest:
            self._put_all(f"{key} (after the first {count})", collection, rest, content_type)

    def _put_all(self, key: str, collection: str, items: list[dataset.Item], content_type: str) -> None:
        figure, cpu0, t0 = Figure(), self.cpu(), time.perf_counter()
        self.side.figures[key] = figure  # kept, as far as it got, if the run is interrupted
        try:
            for item in items:
                response, seconds = self.client.put(collection + item.name, item.data, content_type)
                if response.status_code in (200, 201, 204):
                    figure.ms.append(seconds * 1000)
                else:
                    figure.failures.append(f"{item.name}: {response.status_code} {response.text[:200]}")
        finally:
            self.side.load_s[key] = time.perf_counter() - t0
        if self.pid and figure.ms:
            figure.cpu_ms = (self.cpu() - cpu0) * 1000 / len(items)
        say(f"  {key}: {len(items)} PUTs in {self.side.load_s[key]:.1f} s: {figure.line()}")

    def query(self, key: str, kind: str, expand: bool) -> None:
        ranges = dataset.windows(kind, self.args.warmup + self.args.repeat, self.args.seed)
        url = self.side.collections["calendar"]

        def step(i: int) -> tuple[float, int, int]:
            start, end = ranges[i]
            response, seconds = self.client.report(url, dav.query_body(start, end, expand))
            answer = dav.parse_multistatus(response.content)
            return seconds, answer.responses, answer.components

        self.repeat(key, step, self.args.expand_repeat if expand else None)

    def multiget(self, names: list[str]) -> None:
        rng = random.Random(f"multiget-{self.args.seed}")
        url = self.side.collections["calendar"]

        def step(_i: int) -> tuple[float, int, int]:
            hrefs = [url + name for name in rng.sample(names, min(MULTIGET, len(names)))]
            response, seconds = self.client.report(url, dav.multiget_body(hrefs))
            answer = dav.parse_multistatus(response.content)
            return seconds, answer.responses, answer.components

        self.repeat("calendar-multiget 100 hrefs", step)

    def sync(self, key: str, url: str, token: str, component: str, repeat: int | None = None) -> str:
        """Repeats the same sync-collection REPORT; returns the token the server gave."""
        tokens: list[str] = []

        def step(_i: int) -> tuple[float, int, int]:
            response, seconds = self.client.report(url, dav.sync_body(token), depth="0")
            answer = dav.parse_multistatus(response.content, component)
            tokens.append(answer.sync_token)
            return seconds, answer.responses, -1

        figure = self.repeat(key, step, repeat)
        if not tokens[-1]:
            figure.failures.append("no DAV:sync-token in the answer")
        return tokens[-1]

    def change(self, url: str, items: list[dataset.Item], fresh: list[dataset.Item], content_type: str) -> None:
        """Ten changes a client would make: edit six objects, create two, delete two."""
        edit = dataset.changed_event if content_type == dav.ICAL else dataset.changed_contact
        for item in items[:6]:
            response, _ = self.client.put(url + item.name, edit(item, 1), content_type, create=False)
            self._expect(response, "PUT (edit)", item.name)
        for item in fresh[:2]:
            response, _ = self.client.put(url + item.name, item.data, content_type)
            self._expect(response, "PUT (new)", item.name)
        for item in items[6:8]:
            response, _ = self.client.request("DELETE", url + item.name)
            self._expect(response, "DELETE", item.name)

    def _expect(self, response: httpx.Response, what: str, name: str) -> None:
        if response.status_code not in (200, 201, 204):
            self.side.notes.append(f"{what} {name} answered {response.status_code}: {response.text[:200]}")

    def put_one(self) -> None:
        url = self.side.collections["calendar"]
        total = self.args.warmup + self.args.repeat

        def step(i: int) -> tuple[float, int, int]:
            item = dataset.event(self.args.events + 100 + i, self.args.seed)
            response, seconds = self.client.put(url + item.name, item.data, dav.ICAL)
            if response.status_code not in (200, 201, 204):
                raise dav.DavError(f"PUT {item.name} answered {response.status_code}: {response.text[:200]}")
            return seconds, 1, -1

        assert total < 100_000
        self.repeat("PUT one new event", step)


def measure(side: Side, client: dav.Client, t: servers.Target, args: argparse.Namespace) -> None:
    bench = Bench(side, client, t, args)
    found = client.discover()
    side.collections = {"principal": found.principal, "calendar": found.calendar, "addressbook": found.addressbook}
    side.notes += found.notes
    say(f"  discovered: principal {found.principal}, calendar {found.calendar}, address book {found.addressbook}")
    events = list(dataset.events(args.events, args.seed))
    contacts = list(dataset.contacts(args.contacts, args.seed))
    # every event measure before the contacts are loaded, and the slow expand last: a run
    # stopped early (loading 10,000 objects into a slow server takes long) still has them
    side.load_average.append(f"before loading: {load()}")
    bench.load("PUT while loading the events", found.calendar, events, dav.ICAL)
    side.load_average.append(f"after loading the events: {load()}")
    for kind in ("week", "month"):
        bench.query(f"calendar-query one {kind}", kind, expand=False)
    bench.multiget([item.name for item in events])
    token = bench.sync("sync-collection initial, events", found.calendar, "", "VEVENT", args.sync_repeat)
    bench.change(found.calendar, events, [dataset.event(args.events + i, args.seed) for i in range(2)], dav.ICAL)
    bench.sync(f"sync-collection after {CHANGES} changes, events", found.calendar, token, "VEVENT")
    bench.put_one()
    for kind in ("week", "month"):
        bench.query(f"calendar-query one {kind} with expand", kind, expand=True)
    bench.load("PUT while loading the contacts", found.addressbook, contacts, dav.VCARD)
    side.load_average.append(f"after loading the contacts: {load()}")
    token = bench.sync("sync-collection initial, contacts", found.addressbook, "", "VCARD", args.sync_repeat)
    fresh = [dataset.contact(args.contacts + i, args.seed) for i in range(2)]
    bench.change(found.addressbook, contacts, fresh, dav.VCARD)
    bench.sync(f"sync-collection after {CHANGES} changes, contacts", found.addressbook, token, "VCARD")
    side.load_average.append(f"at the end: {load()}")


@contextlib.contextmanager
def target(name: str, args: argparse.Namespace, tmp: Path) -> Iterator[servers.Target]:
    if name == "radicale":
        with servers.radicale(tmp / "radicale", args.radicale_server) as t:
            yield t
    elif args.url:
        yield servers.Target("Hexagone", args.url, args.user, args.password, None, f"server at {args.url}")
    else:
        with servers.hexagone(tmp / "hexagone", args.database, args.pg_admin) as t:
            yield t


def run_target(name: str, args: argparse.Namespace, tmp: Path) -> Side:
    side = Side("Radicale" if name == "radicale" else "Hexagone")
    say(f"{side.name}:")
    try:
        with target(name, args, tmp) as t:
            side.version, side.base = t.version, t.base
            say(f"  {t.version} at {t.base} (pid {t.pid}; files in {tmp})")
            client = dav.Client(t.base, t.user, t.password)
            try:
                measure(side, client, t, args)
            finally:
                client.close()
    except KeyboardInterrupt:
        side.error = "interrupted (Ctrl-C or SIGTERM): the figures above are those measured until then"
        say(f"  {side.error}")
    except (dav.DavError, httpx.HTTPError, RuntimeError, OSError) as error:
        side.error = f"{type(error).__name__}: {error}"
        if name == "hexagone" and not side.collections:
            side.error = (
                f"{side.error}. Hexagone does not answer the standard CalDAV/CardDAV discovery yet "
                "(the calendar module's CalDAV server is not there or not reachable at that URL)."
            )
        say(f"  FAILED: {side.error}")
        if args.verbose:
            traceback.print_exc()
    return side


# --------------------------------------------------------------------------- report


def fmt(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:,.0f}" if value >= 100 else f"{value:.3g}" if value < 10 else f"{value:.1f}"


def table(ours: Side, peer: Side) -> str:
    keys = list(dict.fromkeys([*peer.figures, *ours.figures]))
    lines = [
        "| measure | Hexagone | Radicale | Radicale ÷ Hexagone | objects (Hexagone / Radicale) "
        "| server CPU ms/request (Hexagone / Radicale) |",
        "|---|---:|---:|---:|---|---|",
    ]
    for key in keys:
        o, p = ours.figures.get(key), peer.figures.get(key)
        for stat in ("p50", "p99"):
            ov, pv = (getattr(f, stat) if f else None for f in (o, p))
            ratio = f"{pv / ov:.2f}" if ov and pv else "-"
            objects = cpu = ""
            if stat == "p50":
                objects = " / ".join(
                    fmt(percentile([float(i) for i in f.items], 0.5)) if f and f.items else "-" for f in (o, p)
                )
                cpu = " / ".join(fmt(f.cpu_ms) if f else "-" for f in (o, p))
            lines.append(f"| {key}, {stat} ms | {fmt(ov)} | {fmt(pv)} | {ratio} | {objects} | {cpu} |")
    for key in dict.fromkeys([*peer.load_s, *ours.load_s]):
        ov, pv = ours.load_s.get(key), peer.load_s.get(key)
        ratio = f"{pv / ov:.2f}" if ov and pv else "-"
        lines.append(
            f"| {key.replace('PUT while loading', 'loading')}, total s | {fmt(ov)} | {fmt(pv)} | {ratio} | | |"
        )
    return "\n".join(lines)


def interrupt(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--target", choices=["radicale", "hexagone", "both"], default="both")
    p.add_argument("--events", type=int, default=10_000)
    p.add_argument("--contacts", type=int, default=10_000)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--warmup", type=int, default=2, help="requests before each measure, not counted")
    p.add_argument("--repeat", type=int, default=30, help="requests per measure")
    p.add_argument("--expand-repeat", type=int, default=10, help="requests per calendar-query with expand")
    p.add_argument("--sync-repeat", type=int, default=5, help="requests per initial sync-collection")
    p.add_argument("--min-repeat", type=int, default=3, help="requests per measure, whatever --max-seconds says")
    p.add_argument("--max-seconds", type=float, default=120, help="stop a measure's repetitions after this")
    p.add_argument(
        "--put-load",
        type=int,
        help="load only the first N events and N contacts by PUT (measured); Radicale gets the others "
        "written into its storage folder (its PUT checks every item's UID, so loading slows as the collection "
        "grows), a server given without storage folder gets them by PUT too",
    )
    p.add_argument("--url", help="measure this running server as 'hexagone' instead of starting one")
    p.add_argument("--user", default=servers.BENCH_USER)
    p.add_argument("--password", default=servers.BENCH_PASSWORD)
    p.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite", help="for the Hexagone it starts")
    p.add_argument(
        "--pg-admin",
        default=os.environ.get("BENCH_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/postgres"),
        help="where to CREATE and DROP the benchmark's PostgreSQL database",
    )
    p.add_argument(
        "--radicale-server", default="builtin", help="Radicale's [server] type (hypercorn must be installed)"
    )
    p.add_argument("--json", type=Path, help="write every figure to this file")
    p.add_argument("--keep", action="store_true", help="keep the temporary folder (logs, Radicale's storage)")
    p.add_argument("--verbose", action="store_true", help="print the traceback of a failure")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    tmp = Path(tempfile.mkdtemp(prefix="bench-calendar-"))
    started = time.strftime("%Y-%m-%d %H:%M:%S %Z")
    say(f"{args.events} events, {args.contacts} contacts (seed {args.seed}); load average {load()}")
    names = ["hexagone", "radicale"] if args.target == "both" else [args.target]
    signal.signal(signal.SIGTERM, interrupt)  # like Ctrl-C: stop measuring, print and write what was measured
    sides: dict[str, Side] = {}
    for name in names:
        sides[name] = run_target(name, args, tmp)
        if sides[name].error.startswith("interrupted"):
            break
    ours, peer = sides.get("hexagone", Side("Hexagone")), sides.get("radicale", Side("Radicale"))
    say("")
    say(table(ours, peer))
    for side in sides.values():
        for note in side.notes:
            say(f"note ({side.name}): {note}")
        if side.error:
            say(f"{side.name} FAILED: {side.error}")
    if args.json:
        payload = {
            "started": started,
            "machine": {"nproc": os.cpu_count(), "python": platform.python_version(), "load_at_end": load()},
            "options": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items() if k != "password"},
            "bodies": {
                "calendar-query": dav.CALENDAR_QUERY,
                "calendar-query with expand": dav.CALENDAR_QUERY_EXPAND,
                "sync-collection": dav.SYNC_COLLECTION,
                "calendar-multiget": dav.CALENDAR_MULTIGET,
            },
            "sides": {
                name: {
                    **{k: v for k, v in asdict(side).items() if k != "figures"},
                    "figures": {key: figure.summary() for key, figure in side.figures.items()},
                }
                for name, side in sides.items()
            },
        }
        args.json.write_text(json.dumps(payload, indent=2, ensure_ascii=False))
        say(f"figures written to {args.json}")
    if args.keep:
        say(f"kept {tmp}")
    else:
        shutil.rmtree(tmp, ignore_errors=True)
    return 1 if any(side.error for side in sides.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
