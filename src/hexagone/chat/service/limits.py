"""How fast one person may post, in this process: a token bucket per person, shared by
the API, the pages and the WebSocket, for messages and the files sent with them alike
(the WebSocket also limits each socket's frames)."""

from __future__ import annotations

import time
import uuid

from hexagone.core.auth import Principal
from hexagone.core.exceptions import RateLimited
from hexagone.core.i18n import gettext as _

POSTS_PER_SECOND, POST_BURST = 5.0, 15.0
_MAX_PEOPLE = 100_000


class Bucket:
    """``rate`` tokens a second, at most ``burst`` saved."""

    def __init__(self, rate: float, burst: float) -> None:
        self.rate, self.burst = rate, burst
        self.tokens = burst
        self.at = time.monotonic()

    def take(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.at) * self.rate)
        self.at = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True


_buckets: dict[uuid.UUID, Bucket] = {}


def posting_allowed(principal: Principal) -> None:
    """Raise RateLimited (429) when the person posts faster than the limit."""
    bucket = _buckets.get(principal.user_id)
    if bucket is None:
        if len(_buckets) >= _MAX_PEOPLE:
            _buckets.clear()
        bucket = _buckets[principal.user_id] = Bucket(POSTS_PER_SECOND, POST_BURST)
    if not bucket.take():
        raise RateLimited(_("Too many messages in a short time: wait a moment."))
