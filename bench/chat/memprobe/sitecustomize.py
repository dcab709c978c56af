"""Loaded by every Python process started with this folder on PYTHONPATH (``run.py
--memprobe``): with ``PYTHONTRACEMALLOC`` set, SIGUSR2 writes the process's Python
allocations (tracemalloc, by line, largest first) to ``$CHATBENCH_MEMPROBE.<pid>.<n>``,
so that the server's memory per connection can be split into Python objects and the rest
(granian, the allocator) without changing the server."""

import os
import signal
import tracemalloc

_OUT = os.environ.get("CHATBENCH_MEMPROBE")
_count = 0


def _dump(_signum, _frame):  # type: ignore[no-untyped-def]
    global _count
    if not tracemalloc.is_tracing():
        return
    _count += 1
    snapshot = tracemalloc.take_snapshot()
    total = sum(s.size for s in snapshot.statistics("filename"))
    with open(f"{_OUT}.{os.getpid()}.{_count}", "w") as out:
        out.write(f"total {total}\n")
        for stat in snapshot.statistics("lineno")[:60]:
            out.write(f"{stat.size} {stat.count} {stat.traceback}\n")
        out.write("-- by file\n")
        for stat in snapshot.statistics("filename")[:40]:
            out.write(f"{stat.size} {stat.count} {stat.traceback}\n")


if _OUT:
    signal.signal(signal.SIGUSR2, _dump)
