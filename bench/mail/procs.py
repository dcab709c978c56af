"""Processes and ports for the mail benchmarks.

The web benchmarks (``bench/run.py``) already know how to pick a free port, start Hexagone
with a fresh data directory or PostgreSQL database, and sum the memory of a server's
process tree; they are loaded from there rather than copied. ``bench/run.py`` is a script,
not a package, hence the import by path.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import resource
import socket
import subprocess
import sys
import time
from pathlib import Path

import psutil

_spec = importlib.util.spec_from_file_location("bench_web", Path(__file__).resolve().parents[1] / "run.py")
assert _spec is not None and _spec.loader is not None
web = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = web  # dataclasses look their module up there
_spec.loader.exec_module(web)

free_port = web.free_port
memory = web.memory
Memory = web.Memory


def load_profile_request():  # type: ignore[no-untyped-def]
    """``bench/profile_request.py`` (py-spy's path, the worker's pid, the summary), loaded by
    path with ``bench/run.py`` in place as its ``run``: the mail and calendar folders each
    have a ``run`` of their own."""
    bench = Path(__file__).resolve().parents[1]
    if str(bench) not in sys.path:
        sys.path.append(str(bench))
    ours, sys.modules["run"] = sys.modules.get("run"), web
    try:
        spec = importlib.util.spec_from_file_location("profile_request", bench / "profile_request.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module
    finally:
        if ours is None:
            del sys.modules["run"]
        else:
            sys.modules["run"] = ours


def tree_cpu(pid: int) -> float:
    """CPU seconds used so far by a server: its live processes and the children they have
    already reaped (Dovecot's login processes and Postfix's smtpd come and go)."""
    total = 0.0
    for process in web.live_tree(pid):
        with contextlib.suppress(psutil.NoSuchProcess, psutil.AccessDenied):
            t = process.cpu_times()
            total += t.user + t.system + t.children_user + t.children_system
    return total


def wait_port(port: int, proc: subprocess.Popen[bytes] | None, log: Path, timeout: float = 60) -> None:
    """Wait until something accepts connections on 127.0.0.1:port."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}; see {log}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listens on port {port} after {timeout:.0f} s; see {log}")


def raise_open_files(wanted: int) -> int:
    """Raise this process' open-file limit (inherited by the servers it starts); returns it."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(max(soft, wanted), hard)
    if target > soft:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def load() -> str:
    """The load average, as uptime prints it: the figures depend on it on a shared machine."""
    return " ".join(f"{x:.2f}" for x in os.getloadavg())
