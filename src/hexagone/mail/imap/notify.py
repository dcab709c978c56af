"""Telling open IMAP sessions that their folder changed.

The store announces every change on ``mail.mailbox.<id>`` after commit. One subscription
per process (not one per connection: a thousand idle clients cost a thousand set
entries, not a thousand subscriptions) hears them all and marks the sessions that have
that folder selected; a session then asks the database what changed, at its next command
or at once when it is in IDLE. The bus may drop a message (it is at-most-once), so NOOP
and IDLE also check the folder's modseq themselves.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from typing import Protocol

from hexagone.core.pubsub import PubSubError, get_bus

log = logging.getLogger("hexagone.mail.imap")

PATTERN = "mail.mailbox.>"
RETRY_SECONDS = 2.0


class Watcher(Protocol):
    def folder_changed(self) -> None: ...


class Hub:
    """Folder id → the sessions that have it selected."""

    def __init__(self) -> None:
        self._watchers: dict[str, set[Watcher]] = {}

    def watch(self, folder_id: uuid.UUID, watcher: Watcher) -> None:
        self._watchers.setdefault(str(folder_id), set()).add(watcher)

    def unwatch(self, folder_id: uuid.UUID, watcher: Watcher) -> None:
        key = str(folder_id)
        watchers = self._watchers.get(key)
        if watchers is not None:
            watchers.discard(watcher)
            if not watchers:
                del self._watchers[key]

    def notify(self, folder_id: str) -> None:
        for watcher in list(self._watchers.get(folder_id, ())):
            watcher.folder_changed()

    async def run(self) -> None:
        """Listen to the bus for as long as the server runs, re-subscribing if it fails."""
        interrupted = False
        while True:
            try:
                async with get_bus().subscribe(PATTERN) as subscription:
                    if interrupted:  # what was missed meanwhile: every session looks again
                        for folder_id in list(self._watchers):
                            self.notify(folder_id)
                    async for message in subscription:
                        changed = message.payload.get("folder_id")
                        if isinstance(changed, str):
                            self.notify(changed)
            except (PubSubError, OSError) as exc:
                log.warning("IMAP change notifications interrupted (%s); retrying", exc)
                interrupted = True
            await asyncio.sleep(RETRY_SECONDS)


hub = Hub()
