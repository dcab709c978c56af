"""A short-lived cache of who a session cookie stands for, dropped at once on any change.

Resolving a session to its :class:`~hexagone.core.auth.Principal` reads the session, the
user with their organisation, and their memberships: three statements on every signed-in
request, most of a page's database work. This cache keeps the answer per session (keyed
by the digest of its cookie) in each process, for ``HEXAGONE_PRINCIPAL_CACHE_SECONDS``
(10 s by default; 0 turns it off) and at most :data:`MAX_ENTRIES` sessions.

What must never happen is a request served with rights that were taken away. So every
committed change that could alter a principal drops it before the change is answered:

- **What changes it.** A row of a watched model written through a session (:func:`watch`:
  the core watches login sessions; the module that builds principals, identity, declares
  its users, memberships, organisations, spaces and groups on
  :data:`hexagone.core.changes.directory`), or an ``UPDATE``/``DELETE``/``INSERT``
  statement on one. A row says whose principal it touches (a user, an organisation); a
  statement that does not say so with :func:`affects` drops every entry. A process where
  no module declared its sources (a script that did not import identity) drops every
  entry at every commit that wrote anything.
- **When.** After the commit (``after_commit``), never before: a request that read the old
  rows meanwhile must not store them as new.
- **Where.** Every process on this machine that uses the same database: the drop is a new
  random value written into a slot of a small shared-memory file beside the database
  (the generations file: one slot for everything, and slots hashed from user, organisation
  and session keys). An entry records the values of its slots as they were *before* its
  rows were read, and is used only while they are unchanged. Other machines hear it on
  the event bus (Redis or NATS), which the module declaring the sources hands over (the
  bus sits above this file); while a process is not subscribed there, it caches nothing.

The machinery (the tracker of watched rows, the generations file, the bus) is
:mod:`hexagone.core.changes`, shared with the other caches of who is who. The invalidation
is tested change by change in ``tests/identity/test_principal_cache.py``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from hexagone.core import changes
from hexagone.core.changes import org_key, session_key, user_key
from hexagone.core.config import Settings, get_settings

__all__ = ["Cache", "Entry", "affects", "cache", "org_key", "reset", "session_key", "user_key", "watch"]

MAX_ENTRIES = 10_000

watch = changes.directory.watch
affects = changes.directory.affects


@dataclass(frozen=True)
class Entry:
    principal: Any  # the Principal, session fields included
    expires_at: datetime  # the session's
    last_seen_at: datetime


class Cache:
    """Principals by the digest of their session cookie."""

    def __init__(self, settings: Settings):
        self.entries: changes.StampedCache[str, Entry] = changes.StampedCache(
            changes.directory, ttl=settings.principal_cache_seconds, max_entries=MAX_ENTRIES
        )

    def snapshot(self) -> bytes | None:
        return self.entries.snapshot()

    def get(self, digest: str) -> Entry | None:
        return self.entries.get(digest)

    def put(
        self,
        digest: str,
        principal: Any,
        *,
        expires_at: datetime,
        last_seen_at: datetime,
        snapshot: bytes | None,
    ) -> None:
        keys = (user_key(principal.user_id), org_key(principal.org_id), session_key(digest))
        self.entries.put(digest, Entry(principal, expires_at, last_seen_at), keys, snapshot)

    def seen(self, digest: str, entry: Entry, when: datetime) -> None:
        self.entries.replace(digest, replace(entry, last_seen_at=when))


_cache: Cache | None = None


def cache() -> Cache:
    global _cache
    if _cache is None:
        _cache = Cache(get_settings())
    return _cache


def reset() -> None:
    """Forget the process' cache (tests that change the settings)."""
    global _cache
    _cache = None
