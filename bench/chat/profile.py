"""Where a chat server's time goes during a fan-out: py-spy samples the worker (every
thread: the event loop's and aiosqlite's) while ``run.py`` loads it, and the samples are
split by what they were doing.

    .venv/bin/python bench/chat/profile.py --pid <worker pid> --seconds 30
    .venv/bin/python bench/chat/profile.py --raw /tmp/profile.txt     # split samples taken before

The worker is the child of ``hexagone serve`` (granian's supervisor); start ``run.py`` and
profile during its latency phase. Statements run by SQLAlchemy inside its greenlet appear
without the coroutine that awaited them (py-spy sees the greenlet's stack alone); in a
post at N members, most of them are the read of the channel's members in ``_notify``.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from collections import Counter
from pathlib import Path

PY_SPY = str(Path(sys.executable).parent / "py-spy")


def category(stack: str) -> str:
    frames = stack.split(";")
    if frames[0].startswith("Session.execute") or "_notify" in stack:
        return "SQLAlchemy in its greenlet (the post's statements; mostly _notify's read of every member)"
    if "Thread._bootstrap" in stack:
        return "aiosqlite's thread"
    if "Connection.write" in stack and "wait_for" in stack and "WebSocket.send" not in stack:
        return "write: asyncio.wait_for per frame (a task and a timer)"
    if "WebSocket.send" in stack:
        return "write: Starlette's send chain, middlewares, granian's send"
    if "Connection.write" in stack:
        return "write: the rest"
    if "Connection.read" in stack:
        return "read and post: the rest"
    if "Hub." in stack:
        return "hub: dispatch"
    if "_write_to_self" in stack or "_read_from_self" in stack:
        return "event loop: wake-ups from threads"
    if "select" in frames[-1].lower():
        return "event loop: select"
    if not stack.strip():
        return "(no Python frame: native code)"
    return "event loop and other"


def split(raw: Path) -> None:
    counts: Counter[str] = Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, n = line.rpartition(" ")
        total += int(n)
        counts[category(stack)] += int(n)
    print(f"{total} samples (all threads)")
    for name, n in counts.most_common():
        print(f"{100 * n / total:5.1f}%  {name}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pid", type=int)
    parser.add_argument("--seconds", type=int, default=30)
    parser.add_argument("--raw", type=Path, default=Path("/tmp/chatbench-profile.txt"))
    args = parser.parse_args()
    if args.pid:
        subprocess.run(
            [PY_SPY, "record", "-p", str(args.pid), "-d", str(args.seconds), "-r", "100", "--format", "raw",
             "--nonblocking", "-o", str(args.raw)],
            check=True,
        )  # fmt: skip
    split(args.raw)


if __name__ == "__main__":
    main()
