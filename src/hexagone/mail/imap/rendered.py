"""ENVELOPE and BODYSTRUCTURE as rendered once, remembered by message content.

Rendering an ENVELOPE from its stored JSON costs about 15 µs of Python, more than all the
rest of a message-list FETCH, and clients ask for the same envelopes again and again
(at every start, every resynchronisation). Dovecot keeps them in its cache file; this
module keeps them in memory, in a least-recently-used map bounded by bytes and keyed by
the message's SHA-256: copies of a message share an entry, and an entry is never stale,
since the same bytes always render the same way. A BODYSTRUCTURE drawn from a tree of an
older version (stored before the parser changed, until ``hexagone mail reparse`` runs) is
not remembered: the tree is replaced behind the server's back, by another process.
"""

from __future__ import annotations

from collections import OrderedDict

CACHE_BYTES = 64 * 1024 * 1024
ENTRY_OVERHEAD = 200  # the key, the map's slot and the objects' headers, roughly


class RenderCache:
    def __init__(self, limit: int = CACHE_BYTES):
        self.limit = limit
        self._entries: OrderedDict[str, bytes] = OrderedDict()
        self._size = 0

    def get(self, key: str) -> bytes | None:
        found = self._entries.get(key)
        if found is not None:
            self._entries.move_to_end(key)
        return found

    def put(self, key: str, value: bytes) -> bytes:
        self._entries[key] = value
        self._size += len(value) + ENTRY_OVERHEAD
        while self._size > self.limit:
            _, old = self._entries.popitem(last=False)
            self._size -= len(old) + ENTRY_OVERHEAD
        return value


cache = RenderCache()
