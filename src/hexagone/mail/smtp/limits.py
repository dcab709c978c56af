"""Per-client limits of the SMTP listeners: simultaneous connections and connections per
minute from one address.

They are counted in the process (each ``hexagone serve`` worker counts its own), which
is what they are for: keeping one client from taking every connection slot. Addresses in
``HEXAGONE_SMTP_LIMIT_EXEMPT`` (loopback by default, as Postfix spares ``mynetworks``) are
not counted. The size, recipient and error limits live with the session
(:mod:`hexagone.mail.smtp.protocol`).
"""

from __future__ import annotations

import ipaddress
import time
from collections import defaultdict, deque

from hexagone.core.config import Settings

WINDOW = 60.0
MAX_TRACKED = 10_000  # addresses remembered before the stale ones are forgotten


class ClientLimits:
    def __init__(self, settings: Settings):
        self.max_open = settings.smtp_max_connections_per_client
        self.max_per_minute = settings.smtp_max_connections_per_minute
        self.exempt = [
            ipaddress.ip_network(n.strip(), strict=False) for n in settings.smtp_limit_exempt.split(",") if n.strip()
        ]
        self._open: dict[str, int] = defaultdict(int)
        self._recent: dict[str, deque[float]] = defaultdict(deque)

    def is_exempt(self, ip: str) -> bool:
        try:
            address = ipaddress.ip_address(ip)
        except ValueError:
            return False
        return any(address in network for network in self.exempt)

    def admit(self, ip: str) -> str | None:
        """Count a new connection from ``ip``; the reason to refuse it, or None. An admitted
        connection must be :meth:`release`\\ d when it ends."""
        if self.is_exempt(ip):
            return None
        now = time.monotonic()
        if len(self._recent) > MAX_TRACKED:
            self._forget_stale(now)
        recent = self._recent[ip]
        while recent and recent[0] < now - WINDOW:
            recent.popleft()
        if self.max_per_minute and len(recent) >= self.max_per_minute:
            return "Too many connections from your address, try again later"
        if self.max_open and self._open[ip] >= self.max_open:
            return "Too many simultaneous connections from your address"
        recent.append(now)
        self._open[ip] += 1
        return None

    def _forget_stale(self, now: float) -> None:
        for ip in [ip for ip, times in self._recent.items() if not times or times[-1] < now - WINDOW]:
            if ip not in self._open:
                del self._recent[ip]

    def release(self, ip: str) -> None:
        if self.is_exempt(ip) or ip not in self._open:
            return
        self._open[ip] -= 1
        if self._open[ip] <= 0:
            del self._open[ip]
            if not self._recent.get(ip):
                self._recent.pop(ip, None)
