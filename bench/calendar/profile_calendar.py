"""Where the CalDAV hot paths spend their time: start Hexagone as ``run.py`` does, PUT the
events (``--events``, 10,000), then for each phase send its request over and over while
py-spy samples the worker (only the thread holding the GIL: CPU spent in Python; with
``--all-threads`` every running thread: SQLite's, the jobs'), and print the frames with the largest
share (``bench/profile_request.py``'s summary).

Phases: ``week`` (calendar-query of one week with calendar-data), ``expand`` (the same
with ``<C:expand>``), ``put`` (PUT of one new event), ``sync`` (initial sync-collection),
``cards`` (PROPFIND depth 0 of the address book: a CardDAV request's fixed cost).

    .venv/bin/python bench/calendar/profile_calendar.py [--phases week,expand,put,sync,cards]
        [--seconds 15] [--events 10000] [--database sqlite|postgres] [--all-threads] [--raw-dir DIR]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import dataset
import dav
import servers

profile_request = servers.load_profile_request()


def phases(client: dav.Client, found: dav.Collections, args: argparse.Namespace) -> dict[str, Callable[[int], None]]:
    weeks = dataset.windows("week", 10_000, args.seed)

    def week(i: int) -> None:
        client.report(found.calendar, dav.query_body(*weeks[i % len(weeks)], expand=False))

    def expand(i: int) -> None:
        client.report(found.calendar, dav.query_body(*weeks[i % len(weeks)], expand=True))

    def put(i: int) -> None:
        item = dataset.event(args.events + 1000 + i, args.seed)
        client.put(found.calendar + item.name, item.data, dav.ICAL)

    def sync(_i: int) -> None:
        client.report(found.calendar, dav.sync_body(""), depth="0")

    def cards(_i: int) -> None:
        client.propfind(found.addressbook, dav.PROPFIND_COLLECTIONS)

    return {"week": week, "expand": expand, "put": put, "sync": sync, "cards": cards}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--phases", default="week,expand,put,sync,cards")
    p.add_argument("--seconds", type=int, default=15, help="how long py-spy samples each phase")
    p.add_argument("--events", type=int, default=10_000)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    p.add_argument(
        "--pg-admin", default=os.environ.get("BENCH_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/postgres")
    )
    p.add_argument("--top", type=int, default=40)
    p.add_argument(
        "--all-threads",
        action="store_true",
        help="count every thread running (SQLite's, the jobs'), not only the one holding the GIL",
    )
    p.add_argument("--raw-dir", type=Path, help="keep py-spy's collapsed stacks here, one file per phase")
    args = p.parse_args()
    with (
        tempfile.TemporaryDirectory(prefix="hexagone-profile-calendar-") as tmp,
        servers.hexagone(Path(tmp), args.database, args.pg_admin) as t,
    ):
        client = dav.Client(t.base, t.user, t.password)
        found = client.discover()
        t0 = time.monotonic()
        for item in dataset.events(args.events, args.seed):
            client.put(found.calendar + item.name, item.data, dav.ICAL)
        print(f"{args.events} events loaded in {time.monotonic() - t0:.0f} s", flush=True)
        steps = phases(client, found, args)
        raw_dir = args.raw_dir or Path(tmp)
        raw_dir.mkdir(parents=True, exist_ok=True)
        for name in args.phases.split(","):
            step, raw = steps[name], raw_dir / f"{name}.txt"
            for i in range(3):  # warm-up
                step(i)
            spy = threading.Thread(
                target=subprocess.run,
                kwargs={
                    "args": [
                        profile_request.PY_SPY, "record", "--pid", str(profile_request.worker_pid(t.pid)),
                        "--duration", str(args.seconds), "--rate", "200", *([] if args.all_threads else ["--gil"]),
                        "--nonblocking",
                        "--format", "raw", "--output", str(raw),
                    ],
                    "check": True,
                    "capture_output": True,
                },
            )  # fmt: skip
            spy.start()
            count, started = 0, time.monotonic()
            while spy.is_alive():
                step(3 + count)
                count += 1
            spy.join()
            elapsed = (time.monotonic() - started) * 1000 / max(count, 1)
            print(f"\n=== {name}: {count} requests, {elapsed:.1f} ms each (wall, sampled)", flush=True)
            print(profile_request.summarise(raw.read_text(), args.top), flush=True)
        client.close()


if __name__ == "__main__":
    main()
