"""Where a request's time goes: start Hexagone (one worker), load one endpoint with wrk as
signed-in user, sample the worker with py-spy while only the thread holding the GIL counts
(CPU spent in Python; ``--all-threads`` also counts threads py-spy sees as running, but it
takes aiosqlite's threads waiting on their queue for work), and print the split by layer and by phase (:mod:`profile_split`), then the frames that take
the largest share, ours and the libraries'.

    .venv/bin/python bench/profile_request.py [--path /|webmail|/api/v1/me] [--database sqlite|postgres]
                                      [--server granian] [--seconds 10] [--all-threads] [--raw out.txt]
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import threading
from collections import Counter
from pathlib import Path

import psutil
from profile_split import report
from run import ROOT, Server, check_signed_in, database, free_port, hexagone_env, prepare, sign_in, webmail_list, wrk

PY_SPY = str(Path(sys.executable).parent / "py-spy")


def worker_pid(pid: int) -> int:
    """The process that runs the application: the single worker under a supervisor."""
    children = psutil.Process(pid).children(recursive=True)
    return children[-1].pid if children else pid


def summarise(raw: str, top: int) -> str:
    """Inclusive share of each frame, from py-spy's collapsed stacks ("a;b;c count")."""
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    total = 0
    for line in raw.splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        n = int(count)
        total += n
        frames = stack.split(";")
        for frame in set(frames):
            inclusive[frame] += n
        own[frames[-1]] += n
    if not total:
        return "no samples"
    skip = (
        "threading.py",
        "granian/",
        "typer/",
        "click/",
        "multiprocessing/",
        "asyncio/events.py",
        "asyncio/base_events.py",
        "hexagone/cli.py",
        "hexagone/server.py",
        "<module>",
    )
    lines = [f"{total} samples", "", "inclusive (frame and what it calls):"]
    shown = 0
    for frame, n in inclusive.most_common():
        if any(s in frame for s in skip):
            continue
        lines.append(f"  {100 * n / total:5.1f}%  {frame}")
        shown += 1
        if shown == top:
            break
    lines += ["", "own time (the frame itself):"]
    lines += [f"  {100 * n / total:5.1f}%  {frame}" for frame, n in own.most_common(top // 2)]
    return "\n".join(lines)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--path", default="/", help="a path, or 'webmail' for the signed-in user's inbox list")
    p.add_argument("--all-threads", action="store_true", help="count every running thread, not the GIL holder")
    p.add_argument("--database", default="sqlite", choices=["sqlite", "postgres"])
    p.add_argument("--server", default="granian", choices=["granian", "uvicorn"])
    p.add_argument("--seconds", type=int, default=10)
    p.add_argument("--connections", type=int, default=100)
    p.add_argument("--top", type=int, default=40)
    p.add_argument("--pg-admin", default="postgresql://postgres@127.0.0.1:5432/postgres")
    p.add_argument("--raw", type=Path, help="keep py-spy's collapsed stacks here")
    args = p.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is missing: apt-get install wrk")
    with tempfile.TemporaryDirectory(prefix="hexagone-profile-") as tmp, database(args.database, args.pg_admin) as db:
        log = Path(tmp) / "server.log"
        env = hexagone_env(Path(tmp) / "data", db, args.server)
        prepare(env, log)
        port = free_port()
        argv = [str(Path(sys.executable).parent / "hexagone"), "serve", "--port", str(port), "--workers", "1"]
        with Server(argv, {**env, "HEXAGONE_HTTP_PORT": str(port)}, port, "/healthz", log) as server:
            browser = sign_in(server.base)
            path = webmail_list(server.base, browser) if args.path == "webmail" else args.path
            check_signed_in(server.base, browser, (path,))
            raw = Path(args.raw or Path(tmp) / "stacks.txt")
            spy = threading.Thread(
                target=subprocess.run,
                kwargs={
                    "args": [
                        PY_SPY,
                        "record",
                        "--pid",
                        str(worker_pid(server.pid)),
                        "--duration",
                        str(args.seconds),
                        "--rate",
                        "250",
                        *([] if args.all_threads else ["--gil"]),
                        "--nonblocking",
                        "--format",
                        "raw",
                        "--output",
                        str(raw),
                    ],
                    "check": True,
                    "capture_output": True,
                    "cwd": ROOT,
                },
            )
            spy.start()
            result = wrk(
                server.base + path,
                seconds=args.seconds + 1,
                connections=args.connections,
                headers={"Cookie": browser.cookie_header},
            )
            spy.join()
            print(
                f"GET {path} on {args.database}/{args.server}: {result.rps:.0f} req/s, "
                f"p50 {result.p50_ms:.1f} ms, p99 {result.p99_ms:.1f} ms, errors {result.errors}\n"
            )
            print(report(raw.read_text()))
            print(summarise(raw.read_text(), args.top))


if __name__ == "__main__":
    main()
