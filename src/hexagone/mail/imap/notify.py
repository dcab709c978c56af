"""Telling open IMAP sessions that their folder changed.

The store announces every change on ``mail.mailbox.<id>`` after commit. One subscription
per process (not one per connection: a thousand idle clients cost a thousand set
entries, not a thousand subscriptions) hears them all and marks the sessions that have
that folder selected; a session then asks the database what changed, at its next command
or at once when it is in IDLE. The bus may drop a message (it is at-most-once), so NOOP
and IDLE also check the folder's modseq themselves.

Sessions that asked for NOTIFY (RFC 5465, :mod:`.commands_notify`) also hear every change
of every folder, with its kind and its mailbox, every folder created, renamed or deleted,
and every change of a user's subscriptions (``mail.subscriptions.<user id>``): they sort
out themselves which folders they may see and care about.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable
from typing import Any, Protocol

from hexagone.core.pubsub import PubSubError, get_bus

log = logging.getLogger("hexagone.mail.imap")

PATTERN = "mail.mailbox.>"
SUBSCRIPTIONS = "mail.subscriptions.>"
NAME_KINDS = ("created", "renamed", "deleted")
RETRY_SECONDS = 2.0


class Watcher(Protocol):
    def folder_changed(self) -> None: ...


class Listener(Protocol):
    def mailbox_event(self, mailbox_id: str, folder_id: str, kind: str) -> None: ...
    def name_event(self, mailbox_id: str, name: str, old: str, kind: str) -> None: ...
    def subscription_event(self, user_id: str, name: str, subscribed: bool) -> None: ...


class Hub:
    """Folder id → the sessions that have it selected."""

    def __init__(self) -> None:
        self._watchers: dict[str, set[Watcher]] = {}
        self._listeners: set[Listener] = set()

    def listen(self, listener: Listener) -> None:
        self._listeners.add(listener)

    def unlisten(self, listener: Listener) -> None:
        self._listeners.discard(listener)

    def watch(self, folder_id: uuid.UUID, watcher: Watcher) -> None:
        self._watchers.setdefault(str(folder_id), set()).add(watcher)

    def unwatch(self, folder_id: uuid.UUID, watcher: Watcher) -> None:
        key = str(folder_id)
        watchers = self._watchers.get(key)
        if watchers is not None:
            watchers.discard(watcher)
            if not watchers:
                del self._watchers[key]

    def notify(self, folder_id: str, kind: str = "", mailbox_id: str = "") -> None:
        for watcher in list(self._watchers.get(folder_id, ())):
            watcher.folder_changed()
        for listener in list(self._listeners):
            listener.mailbox_event(mailbox_id, folder_id, kind)

    def _folder_message(self, owner: str, payload: dict[str, Any]) -> None:
        changed, kind = payload.get("folder_id"), payload.get("kind")
        if not isinstance(changed, str):
            return
        kind = kind if isinstance(kind, str) else ""
        self.notify(changed, kind, owner)
        name, old = payload.get("name"), payload.get("old")
        if kind in NAME_KINDS and isinstance(name, str):
            for listener in list(self._listeners):
                listener.name_event(owner, name, old if isinstance(old, str) else "", kind)

    def _subscription_message(self, owner: str, payload: dict[str, Any]) -> None:
        name, subscribed = payload.get("name"), payload.get("subscribed")
        if isinstance(name, str):
            for listener in list(self._listeners):
                listener.subscription_event(owner, name, subscribed is True)

    async def run(self) -> None:
        """Listen to the bus for as long as the server runs."""
        await asyncio.gather(
            self._follow(PATTERN, self._folder_message), self._follow(SUBSCRIPTIONS, self._subscription_message)
        )

    async def _follow(self, pattern: str, handle: Callable[[str, dict[str, Any]], None]) -> None:
        """Hand every message of ``pattern`` (with the id its channel ends with) to ``handle``,
        re-subscribing if the bus fails."""
        interrupted = False
        while True:
            try:
                async with get_bus().subscribe(pattern) as subscription:
                    if interrupted:  # what was missed meanwhile: every session looks again
                        for folder_id in list(self._watchers):
                            self.notify(folder_id)
                    async for message in subscription:
                        handle(message.channel.rpartition(".")[2], message.payload)
            except (PubSubError, OSError) as exc:
                log.warning("IMAP change notifications interrupted (%s); retrying", exc)
                interrupted = True
            await asyncio.sleep(RETRY_SECONDS)


hub = Hub()
