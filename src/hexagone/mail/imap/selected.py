"""The selected folder as one session sees it: the UIDs it has announced, in order (a
message's sequence number is its position here), and how far it has caught up with the
folder's changes (``modseq``).

\\Recent (RFC 3501 2.3.2): the folder row's ``first_recent_uid`` marks where the messages
no session has seen yet begin. A session that selects the folder read-write claims them
(:meth:`~hexagone.mail.imap.account.Account.claim_recent` moves the mark to ``uid_next``
with a compare-and-set), and so does the first one to notice a new arrival: the UID
ranges it claimed are :attr:`Selected.claimed`, and :attr:`Selected.recent` the known
UIDs in them. A read-only session (EXAMINE) sees the unclaimed messages as recent without
claiming them, as Dovecot does.

UIDs are kept in an ``array('Q')``: 8 bytes a message, so a session on a 50,000-message
folder holds 400 KB, and an idle session on a small one almost nothing. Once the session
searches by flags it also keeps their bits (one byte a message, :attr:`Selected.flags`),
loaded on first use and kept current with every change it hears of. Other sessions'
changes are applied by :meth:`Selected.apply`, which says what to announce.
"""

from __future__ import annotations

from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from hexagone.mail.imap.account import FolderRef, Snapshot
from hexagone.mail.imap.arguments import SequenceSet
from hexagone.mail.imap.contexts import LiveSearch
from hexagone.mail.imap.messages import Changes, bits_of
from hexagone.mail.imap.parser import CommandError
from hexagone.mail.imap.query import UidRanges

MAX_OWN_MODSEQS = 64


@dataclass(slots=True)
class Updates:
    """What a catch-up found: EXPUNGE numbers (highest first), the new EXISTS count if
    messages arrived, and rows whose flags changed (with their sequence numbers)."""

    expunged: list[int] = field(default_factory=list)
    expunged_uids: list[int] = field(default_factory=list)
    exists: int | None = None
    added: list[int] = field(default_factory=list)
    flags: list[tuple[int, Any]] = field(default_factory=list)


class Selected:
    __slots__ = (
        "claimed",
        "contexts",
        "dirty",
        "flags",
        "folder",
        "keywords",
        "modseq",
        "own_modseqs",
        "read_only",
        "recent",
        "saved",
        "uids",
    )

    def __init__(self, snapshot: Snapshot, read_only: bool):
        self.folder: FolderRef = snapshot.folder
        self.read_only = read_only or not snapshot.folder.writable
        self.uids: array[int] = snapshot.uids
        self.flags: bytearray | None = None  # flag bits by position, once a search needs them
        self.modseq = snapshot.highest_modseq
        self.recent: set[int] = set()  # the known UIDs that are \Recent in this session
        self.claimed: list[range] = []  # the UID ranges whose \Recent this session holds
        self.own_modseqs: set[int] = set()  # changes this session made and reported itself
        self.keywords = list(snapshot.keywords)
        self.dirty = False
        self.saved: UidRanges = []  # what "$" stands for: the last RETURN (SAVE)'s UIDs (RFC 5182)
        self.contexts: dict[str, LiveSearch] = {}  # live searches by tag (RFC 5267), until the folder is closed

    @property
    def exists(self) -> int:
        return len(self.uids)

    @property
    def max_uid(self) -> int:
        return self.uids[-1] if self.uids else 0

    def seq_of(self, uid: int) -> int | None:
        index = bisect_left(self.uids, uid)
        return index + 1 if index < len(self.uids) and self.uids[index] == uid else None

    def numbered(self, rows: Iterable[Any]) -> Iterator[tuple[int, Any]]:
        """(sequence number, row) for rows in UID order, skipping UIDs this session does
        not know; each search starts where the previous one ended."""
        uids, count, index = self.uids, len(self.uids), 0
        for row in rows:
            index = bisect_left(uids, row.uid, index)
            if index < count and uids[index] == row.uid:
                yield index + 1, row

    def uid_ranges(self, numbers: SequenceSet, *, uid: bool, strict: bool = True) -> UidRanges:
        """The UID ranges a sequence set names, limited to messages this session knows.
        A message number beyond EXISTS is an error (``strict``) or ignored (SEARCH); that
        includes "*" in an empty folder (RFC 9051 9: "This includes '*' if the selected
        mailbox is empty"), as Dovecot answers. A UID set names what exists, maybe nothing.
        ``$`` names the saved messages still there, whether ``uid`` or not (RFC 5182 2.1)."""
        uids = self.uids
        if not uids:
            if strict and not uid and not numbers.saved:
                raise CommandError("Invalid message sequence number: the folder is empty")
            return []
        if uid or numbers.saved:
            ranges = []
            for lo, hi in self.saved if numbers.saved else numbers.resolved(uids[-1]):
                start, end = bisect_left(uids, lo), bisect_right(uids, hi)
                if start < end:
                    ranges.append((uids[start], uids[end - 1]))
            return ranges
        ranges = []
        for lo, hi in numbers.resolved(len(uids)):
            if hi > len(uids) or lo < 1:
                if strict:
                    raise CommandError("Invalid message sequence number")
                lo, hi = max(lo, 1), min(hi, len(uids))
                if lo > hi:
                    continue
            ranges.append((uids[lo - 1], uids[hi - 1]))
        return ranges

    def load_flags(self, found: dict[int, int]) -> None:
        """Take the flag bits read from the database (UID → bits) for the known UIDs."""
        self.flags = bytearray(found.get(uid, 0) for uid in self.uids)

    def update_flags(self, rows: Any) -> None:
        """Record the current flags of messages this session changed or heard about."""
        if self.flags is None:
            return
        for row in rows:
            seq = self.seq_of(row.uid)
            if seq is not None:
                self.flags[seq - 1] = bits_of(row)

    def is_claimed(self, uid: int) -> bool:
        return any(uid in claim for claim in self.claimed)

    def claim(self, uids: range) -> None:
        """Take the UIDs of ``uids`` as recent in this session: those known now, and the
        others when they become known."""
        if not uids:
            return
        self.claimed.append(uids)
        start = bisect_left(self.uids, uids.start)
        self.recent.update(uid for uid in self.uids[start:] if uid in uids)

    def note_own_change(self, modseq: int | None) -> None:
        if modseq is not None and len(self.own_modseqs) < MAX_OWN_MODSEQS:
            self.own_modseqs.add(modseq)

    def remove(self, removed: list[int]) -> list[int]:
        """Forget expunged UIDs; their sequence numbers, highest first, to announce."""
        gone = set(removed)
        if not gone:
            return []
        numbers = [i + 1 for i, uid in enumerate(self.uids) if uid in gone]
        if numbers:
            kept = [i for i, uid in enumerate(self.uids) if uid not in gone]
            self.uids = array("Q", (self.uids[i] for i in kept))
            if self.flags is not None:
                self.flags = bytearray(self.flags[i] for i in kept)
            self.recent -= gone
        return numbers[::-1]

    def apply(self, changes: Changes) -> Updates:
        updates = Updates()
        if changes.present is not None:
            kept = set(changes.present)
            updates.expunged_uids = [uid for uid in self.uids if uid not in kept]
            updates.expunged = self.remove(updates.expunged_uids)
        max_uid = self.max_uid
        added = [row for row in changes.rows if row.uid > max_uid]
        if added:
            self.uids.extend(row.uid for row in added)
            if self.flags is not None:
                self.flags.extend(bits_of(row) for row in added)
            updates.added = [row.uid for row in added]
            self.recent.update(uid for uid in updates.added if self.is_claimed(uid))
            updates.exists = len(self.uids)
        self.update_flags(row for row in changes.rows if row.uid <= max_uid)
        for row in changes.rows:
            if row.uid <= max_uid and row.modseq not in self.own_modseqs:
                seq = self.seq_of(row.uid)
                if seq is not None:
                    updates.flags.append((seq, row))
        self.modseq = changes.highest_modseq
        self.own_modseqs.clear()
        return updates
