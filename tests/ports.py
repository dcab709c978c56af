"""Listening ports for the servers the tests start.

A port the kernel hands out for ``bind(("127.0.0.1", 0))`` is free only until the socket
closes: the next such call, in this process or in the other xdist worker, may be handed
the same one before the server we started has bound it, and an IMAP client then meets an
SMTP greeting. So ports come from below the kernel's ephemeral range (32768 and up, where
outgoing connections take theirs), from a band of its own for each xdist worker, handed
out once each in turn, and only if nothing listens on them at that moment.
"""

from __future__ import annotations

import itertools
import os
import random
import socket

BAND_START = 16000
BAND_SIZE = 2000
WORKERS_WITH_A_BAND = 8


def _band() -> range:
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw")
    index = int(worker) % WORKERS_WITH_A_BAND if worker.isdigit() else 0
    start = BAND_START + index * BAND_SIZE
    return range(start, start + BAND_SIZE)


def _cycle(band: range) -> itertools.cycle[int]:
    """The band's ports in turn, from a random one: two runs side by side on one machine
    (a CI beside a developer's run) rarely walk the same ports at the same time."""
    first = random.randrange(len(band))
    return itertools.cycle([*band[first:], *band[:first]])


_ports = _cycle(_band())


def bindable(port: int) -> bool:
    """Whether nothing listens on ``port`` of the loopback at this moment."""
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_port() -> int:
    """A port nothing listens on, not handed out before in this worker's band turn."""
    for _ in range(BAND_SIZE):
        port = next(_ports)
        if bindable(port):
            return port
    raise RuntimeError(f"no free port left in {_band()}")


# The live-socket port (core/live.py) of each server the tests started, by its base URL.
LIVE_PORTS: dict[str, int] = {}
