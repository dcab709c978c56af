"""Search and sort contexts (RFC 5267 4): a SEARCH or SORT with ``RETURN (UPDATE)`` stays
alive until CANCELUPDATE or until the folder is closed, and the session tells the client
how its result changes, as ``* ESEARCH (TAG "t") ADDTO (...)`` and ``REMOVEFROM (...)``.

A context keeps its result as UIDs in the order the client knows it. As Dovecot does, the
messages of a result that are expunged are reported first, before the EXPUNGE responses
and numbered as before them (:meth:`LiveSearch.expunging`); then, once the session has
caught up, it runs the search again and :meth:`LiveSearch.changes` says what left the
result and what joined it.
A SEARCH context names position 0 (its order is the folder's, which the client knows); a
SORT context names where each message leaves or enters the sorted list, as RFC 5267 4.3
asks, the removals first, then the additions in their new order, so that applying them one
after the other turns the old list into the new one.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from hexagone.mail.imap.arguments import format_uid_set
from hexagone.mail.imap.search import Node, Returns
from hexagone.mail.imap.sort import SortKey

MAX_CONTEXTS = 16  # per session: each costs a search after every change of the folder


@dataclass
class LiveSearch:
    tag: str
    uid: bool
    criteria: Node
    returns: Returns
    keys: Sequence[SortKey] | None  # None for a SEARCH context
    uids: list[int]  # the result, in the order the client holds it

    def response(self, data: bytes) -> bytes:
        return b'* ESEARCH (TAG "%b")%b %b\r\n' % (self.tag.encode(), b" UID" if self.uid else b"", data)

    def expunging(self, gone: set[int], known: Callable[[int], int | None]) -> bytes | None:
        """REMOVEFROM for the messages of the result about to be expunged, numbered as they
        are before the expunge: sent before the EXPUNGE responses, as Dovecot does."""
        removed = self._remove(lambda uid: uid in gone)
        return self._data(b"REMOVEFROM", removed, known)

    def changes(self, result: list[int], known: Callable[[int], int | None]) -> list[bytes]:
        """The REMOVEFROM and ADDTO data that turn the held result into ``result`` (UIDs,
        in order); ``known`` gives a UID's sequence number. The held result becomes
        ``result``."""
        wanted = set(result)
        self.uids = [uid for uid in self.uids if known(uid) is not None]  # expunged: already reported
        removed = self._remove(lambda uid: uid not in wanted)
        held = set(self.uids)
        added = [(position + 1, uid) for position, uid in enumerate(result) if uid not in held]
        self.uids = list(result)
        return [
            data
            for name, moves in ((b"REMOVEFROM", removed), (b"ADDTO", added))
            if (data := self._data(name, moves, known))
        ]

    def _remove(self, leaves: Callable[[int], bool]) -> list[tuple[int, int]]:
        """Take out the UIDs that leave: (place once the ones before it have gone, UID)."""
        removed: list[tuple[int, int]] = []
        kept: list[int] = []
        for uid in self.uids:
            if leaves(uid):
                removed.append((len(kept) + 1, uid))
            else:
                kept.append(uid)
        self.uids = kept
        return removed

    def _data(self, name: bytes, moves: list[tuple[int, int]], known: Callable[[int], int | None]) -> bytes | None:
        if not moves:
            return None
        numbers = [uid if self.uid else known(uid) or 0 for _, uid in moves]
        if self.keys is None:  # a SEARCH context: position 0, the numbers in ascending order
            return name + b" (0 " + format_uid_set(sorted(numbers)).encode() + b")"
        return name + b" (" + b" ".join(b"%d %d" % (move[0], n) for move, n in zip(moves, numbers, strict=True)) + b")"
