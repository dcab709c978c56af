"""Commands on the selected folder's messages: FETCH, STORE, COPY, MOVE,
EXPUNGE, CLOSE, UNSELECT and IDLE, with their UID variants.

FETCH reads every row it needs in one query and, when bodies are asked for, reads the
blobs of the next batch while it writes the current one, so that the database, the blob
store and the socket overlap.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar

from hexagone.core import blobs
from hexagone.core.blobs import BlobNotFound
from hexagone.mail.imap import messages
from hexagone.mail.imap.arguments import Args, SequenceSet, format_uid_set
from hexagone.mail.imap.command_base import AUTH, SELECTED, CommandTable, SessionBase
from hexagone.mail.imap.connection import Closed
from hexagone.mail.imap.fetch import (
    FLAG_COLUMNS,
    WHOLE_MESSAGE,
    FetchPlan,
    cached_columns,
    flags,
    parse_fetch,
    prerender,
    render,
    without_nul,
)
from hexagone.mail.imap.parser import CommandError
from hexagone.mail.imap.qresync import format_ranges, given, missing
from hexagone.mail.imap.state import State

if TYPE_CHECKING:
    from hexagone.mail.imap.selected import Selected

log = logging.getLogger("hexagone.mail.imap")

BATCH_BYTES = 8 * 1024 * 1024
BATCH_MESSAGES = 64
STREAM_BYTES = 1024 * 1024
IDLE_SECONDS = 30 * 60
_STORE_RE = re.compile(r"([+-]?)FLAGS(\.SILENT)?")
_MODES = {"+": "add", "-": "remove", "": "set"}


def enable_condstore(session: SessionBase) -> None:
    """Turn CONDSTORE on for a CONDSTORE enabling command (RFC 7162 3.1: FETCH MODSEQ or
    CHANGEDSINCE, STORE UNCHANGEDSINCE, SEARCH MODSEQ, ENABLE, SELECT (CONDSTORE)); the
    first one in a selected folder reports its HIGHESTMODSEQ (3.1.2.1), which a SELECT
    made before CONDSTORE was on need not have told."""
    if "CONDSTORE" in session.enabled:
        return
    session.enabled.add("CONDSTORE")
    if session.selected is not None:
        session.send(b"* OK [HIGHESTMODSEQ %d] Highest\r\n" % session.selected.modseq)


def _batches(rows: list[Any], stream: bool) -> list[tuple[list[Any], bool]]:
    """Rows in groups small enough to hold their messages in memory together; with
    ``stream``, a large message is a group of its own, copied to the socket in pieces."""
    batches: list[tuple[list[Any], bool]] = []
    size = 0
    for row in rows:
        if stream and row.size > STREAM_BYTES:
            batches.append(([row], True))
            continue
        if not batches or batches[-1][1] or len(batches[-1][0]) >= BATCH_MESSAGES or size + row.size > BATCH_BYTES:
            batches.append(([], False))
            size = 0
        batches[-1][0].append(row)
        size += row.size
    return batches


async def _read(rows: list[Any]) -> list[bytes | None]:
    try:
        return list(await messages.read_blobs([row.blob_key for row in rows]))
    except BlobNotFound:  # one is missing: read them one by one to serve the others
        found: list[bytes | None] = []
        for row in rows:
            try:
                found += await messages.read_blobs([row.blob_key])
            except BlobNotFound:
                log.error("message blob %s is missing", row.blob_key)
                found.append(None)
        return found


class MessageCommands(SessionBase):
    COMMANDS: ClassVar[CommandTable] = {
        "IDLE": ("cmd_idle", AUTH),
        "CHECK": ("cmd_noop", SELECTED),
        "CLOSE": ("cmd_close", SELECTED),
        "UNSELECT": ("cmd_unselect", SELECTED),
        "EXPUNGE": ("cmd_expunge", SELECTED),
        "UID EXPUNGE": ("cmd_uid_expunge", SELECTED),
        "FETCH": ("cmd_fetch", SELECTED),
        "UID FETCH": ("cmd_uid_fetch", SELECTED),
        "STORE": ("cmd_store", SELECTED),
        "UID STORE": ("cmd_uid_store", SELECTED),
        "COPY": ("cmd_copy", SELECTED),
        "UID COPY": ("cmd_uid_copy", SELECTED),
        "MOVE": ("cmd_move", SELECTED),
        "UID MOVE": ("cmd_uid_move", SELECTED),
    }
    CAPABILITIES: ClassVar[tuple[str, ...]] = (
        "UIDPLUS",
        "MOVE",
        "UNSELECT",
        "CONDSTORE",
        "QRESYNC",
        "BINARY",
        "OBJECTID",
        "SAVEDATE",
    )

    def _writable(self) -> Selected:
        assert self.selected is not None
        if self.selected.read_only:
            raise CommandError("The mailbox is read-only", status="NO", code="READ-ONLY")
        return self.selected

    # --- FETCH ---------------------------------------------------------------------------

    async def cmd_fetch(self, tag: str, args: Args) -> str:
        return await self._fetch(args, uid=False)

    async def cmd_uid_fetch(self, tag: str, args: Args) -> str:
        return await self._fetch(args, uid=True)

    async def _fetch(self, args: Args, *, uid: bool) -> str:
        selected, account = self.selected, self.account
        assert selected is not None and account is not None
        numbers = args.sequence_set()
        plan = parse_fetch(args, uid=uid)
        if plan.vanished and not (uid and plan.changed_since is not None and "QRESYNC" in self.enabled):
            raise CommandError("VANISHED needs UID FETCH, CHANGEDSINCE and QRESYNC enabled")
        if "MODSEQ" in plan.items:
            enable_condstore(self)  # RFC 7162 3.1: a CONDSTORE enabling command
        if plan.vanished:
            await self._vanished_earlier(numbers)
        ranges = selected.uid_ranges(numbers, uid=uid)
        if not ranges:
            return "OK FETCH completed"
        seen_now: set[int] = set()
        if plan.sets_seen and not selected.read_only:
            result = await messages.set_flags(account, selected.folder, ranges, ["\\Seen"], "add")
            selected.note_own_change(result.modseq)
            selected.update_flags(result.messages)
            seen_now = result.changed
        columns = set(plan.columns)
        condstore = "CONDSTORE" in self.enabled
        if seen_now:
            columns.update(FLAG_COLUMNS)
        if condstore:
            columns.add("modseq")
        rows = await messages.rows(account, selected.folder.id, ranges, columns, changed_since=plan.changed_since)
        rendered: dict[str, bytes] = {}
        if needed := prerender(plan, rows, {}, rendered):  # ENVELOPEs and BODYSTRUCTUREs not in the cache
            json_of = await messages.json_columns(account, selected.folder.id, needed, cached_columns(plan))
            if prerender(plan, rows, json_of, rendered):  # some were expunged meanwhile: leave them out
                rows = [row for row in rows if row.uid in json_of or row.uid not in needed]
        missing = 0
        if not plan.needs_blob:
            for seq, row in selected.numbered(rows):
                self._fetch_one(plan, row, None, seen_now, condstore, seq=seq, rendered=rendered)
                await self.conn.maybe_flush()
            return "OK FETCH completed"
        batches = _batches(rows, plan.streamable)
        pending: asyncio.Future[list[bytes | None]] | None = None
        try:
            for index, (batch, stream) in enumerate(batches):
                if stream:
                    missing += not await self._stream_one(plan, batch[0], seen_now, condstore, rendered)
                    continue
                raws = await (pending or _read(batch))
                following = batches[index + 1] if index + 1 < len(batches) else None
                pending = asyncio.ensure_future(_read(following[0])) if following and not following[1] else None
                for row, raw in zip(batch, raws, strict=True):
                    if raw is None:
                        missing += 1
                        continue
                    self._fetch_one(plan, row, raw, seen_now, condstore, rendered=rendered)
                    await self.conn.maybe_flush()
        finally:
            if pending is not None:
                pending.cancel()
        if missing:
            return "NO [SERVERBUG] Some messages could not be read"
        return "OK FETCH completed"

    async def _vanished_earlier(self, numbers: SequenceSet) -> None:
        """``* VANISHED (EARLIER)`` for the UIDs of ``numbers`` no longer in the folder
        (RFC 7162 3.2.6), compared with the folder as it is now rather than with what
        this session knows: a message that arrived since is not gone (see :mod:`.qresync`)."""
        assert self.selected is not None and self.account is not None
        present, uid_next = await messages.present_uids(self.account, self.selected.folder.id)
        ranges = self.selected.saved if numbers.saved else given(numbers, uid_next)
        if gone := missing(present, ranges):
            self.send(b"* VANISHED (EARLIER) %b\r\n" % format_ranges(gone).encode())

    async def _stream_one(
        self, plan: FetchPlan, row: Any, seen_now: set[int], condstore: bool, rendered: dict[str, bytes]
    ) -> bool:
        """A large message, copied from the blob store to the socket a chunk at a time;
        False when its blob is missing (nothing is written then)."""
        try:
            chunks = await blobs.get_store().get(row.blob_key)
        except BlobNotFound:
            log.error("message blob %s is missing", row.blob_key)
            return False
        pieces: list[bytes] = []
        self._fetch_one(plan, row, None, seen_now, condstore, pieces.append, rendered=rendered)
        for piece in pieces:
            if piece is not WHOLE_MESSAGE:
                self.send(piece)
                continue
            sent = 0
            async for chunk in chunks:
                sent += len(chunk)
                self.send(without_nul(chunk))
                await self.conn.maybe_flush()
            if sent != row.size:  # the literal announced another size: the session cannot go on
                log.error("message blob %s has %d bytes, not %d", row.blob_key, sent, row.size)
                self.conn.abort()
                raise Closed
        return True

    def _fetch_one(
        self,
        plan: FetchPlan,
        row: Any,
        raw: bytes | None,
        seen_now: set[int],
        condstore: bool,
        write: Callable[[bytes], None] | None = None,
        seq: int | None = None,
        rendered: dict[str, bytes] | None = None,
    ) -> None:
        assert self.selected is not None
        seq = seq or self.selected.seq_of(row.uid)
        if seq is None:
            return
        extra: tuple[str, ...] = ()
        if row.uid in seen_now:
            extra = ("FLAGS", "MODSEQ") if condstore else ("FLAGS",)
        elif condstore and "FLAGS" in plan.items:
            extra = ("MODSEQ",)
        render(
            plan,
            seq,
            row,
            raw,
            write or self.conn.write,
            recent=self.shows_recent and row.uid in self.selected.recent,
            extra=extra,
            rendered=rendered,
        )

    # --- STORE ---------------------------------------------------------------------------

    async def cmd_store(self, tag: str, args: Args) -> str:
        return await self._store(args, uid=False)

    async def cmd_uid_store(self, tag: str, args: Args) -> str:
        return await self._store(args, uid=True)

    async def _store(self, args: Args, *, uid: bool) -> str:
        assert self.account is not None
        selected = self._writable()
        numbers = args.sequence_set()
        unchanged_since = None
        if isinstance(args.peek(), list):
            modifiers = Args(args.list("store modifiers"))
            if modifiers.keyword("store modifier") != "UNCHANGEDSINCE":
                raise CommandError("Unknown STORE modifier")
            unchanged_since = modifiers.number("mod-sequence")
            modifiers.end()
            enable_condstore(self)
        match = _STORE_RE.fullmatch(args.keyword("store action"))
        if match is None:
            raise CommandError("Invalid STORE action")
        mode, silent = _MODES[match.group(1)], bool(match.group(2))
        if isinstance(args.peek(), list):
            wanted = args.flags()
        else:  # flags without parentheses, as some clients send them
            wanted = []
            while args.more():
                wanted.append(args.atom("flag"))
        ranges = selected.uid_ranges(numbers, uid=uid)
        if not ranges:
            return "OK STORE completed"
        result = await messages.set_flags(
            self.account, selected.folder, ranges, wanted, mode, unchanged_since=unchanged_since
        )
        selected.note_own_change(result.modseq)
        selected.update_flags(result.messages)
        self.announce_keywords(k for m in result.messages for k in m.keywords or ())
        condstore = "CONDSTORE" in self.enabled
        refused = set(result.refused)
        for message in result.messages:
            if message.uid in refused or (silent and not (condstore and message.uid in result.changed)):
                continue
            seq = selected.seq_of(message.uid)
            if seq is None:
                continue
            items = [b"FLAGS " + flags(message, self.shows_recent and message.uid in selected.recent)]
            if uid:
                items.append(b"UID %d" % message.uid)
            if condstore:
                items.append(b"MODSEQ (%d)" % message.modseq)
            self.send(b"* %d FETCH (%b)\r\n" % (seq, b" ".join(items)))
        if refused:
            numbers_refused = sorted(refused) if uid else sorted(filter(None, map(selected.seq_of, refused)))
            return f"OK [MODIFIED {format_uid_set(numbers_refused)}] Conditional STORE failed"
        return "OK STORE completed"

    # --- COPY and MOVE -------------------------------------------------------------------

    async def cmd_copy(self, tag: str, args: Args) -> str:
        return await self._copy(args, uid=False, move=False)

    async def cmd_uid_copy(self, tag: str, args: Args) -> str:
        return await self._copy(args, uid=True, move=False)

    async def cmd_move(self, tag: str, args: Args) -> str:
        return await self._copy(args, uid=False, move=True)

    async def cmd_uid_move(self, tag: str, args: Args) -> str:
        return await self._copy(args, uid=True, move=True)

    async def _copy(self, args: Args, *, uid: bool, move: bool) -> str:
        assert self.account is not None
        selected = self._writable() if move else self.selected
        assert selected is not None
        numbers = args.sequence_set()
        target = args.mailbox()
        args.end()
        verb = "MOVE" if move else "COPY"
        ranges = selected.uid_ranges(numbers, uid=uid)
        result = await messages.copy(self.account, selected.folder.id, ranges, target, move=move) if ranges else None
        if result is None:
            return f"OK {verb} completed (no messages)"
        code = f"COPYUID {result.uidvalidity} {format_uid_set(result.source_uids)} {format_uid_set(result.target_uids)}"
        if result.target_id == selected.folder.id:
            selected.dirty = True
        if not move:
            return f"OK [{code}] COPY completed"
        self.send(f"* OK [{code}] Moved\r\n".encode())
        self.announce_expunged(result.source_uids)
        return "OK MOVE completed"

    # --- EXPUNGE, CLOSE, UNSELECT --------------------------------------------------------

    async def cmd_expunge(self, tag: str, args: Args) -> str:
        args.end()
        return await self._expunge(None)

    async def cmd_uid_expunge(self, tag: str, args: Args) -> str:
        assert self.selected is not None
        numbers = args.sequence_set()
        args.end()
        return await self._expunge(self.selected.uid_ranges(numbers, uid=True))

    async def _expunge(self, ranges: list[tuple[int, int]] | None) -> str:
        assert self.account is not None
        selected = self._writable()
        if ranges == []:
            return "OK EXPUNGE completed"
        removed = await messages.expunge(self.account, selected.folder.id, ranges)
        self.announce_expunged(removed)
        return "OK EXPUNGE completed"

    def announce_expunged(self, removed: list[int]) -> None:
        """Forget messages this session removed, and say so (:meth:`send_expunged`)."""
        assert self.selected is not None
        self.expunging_from_contexts(set(removed))
        known = sorted(uid for uid in removed if self.selected.seq_of(uid) is not None)
        self.send_expunged(self.selected.remove(known), known)

    async def cmd_close(self, tag: str, args: Args) -> str:
        assert self.selected is not None and self.account is not None
        args.end()
        if not self.selected.read_only:
            await messages.expunge(self.account, self.selected.folder.id)
        self.deselect()
        return "OK CLOSE completed"

    async def cmd_unselect(self, tag: str, args: Args) -> str:
        args.end()
        self.deselect()
        return "OK UNSELECT completed"

    # --- IDLE ----------------------------------------------------------------------------

    async def cmd_idle(self, tag: str, args: Args) -> str | None:
        """Wait for DONE, announcing changes as they happen (RFC 2177)."""
        args.end()
        assert self.conn.framer is not None
        self.send(b"+ idling\r\n")
        await self.report_changes(force=True)
        await self.conn.flush()
        self.idling = True
        try:
            async with asyncio.timeout(IDLE_SECONDS):
                while (line := self.conn.framer.read_line()) is None:
                    await self.conn.wait_data()
                    await self.unsolicited(idling=True)
                    await self.conn.flush()
        except TimeoutError:
            self.send(b"* BYE Autologout; idle for too long\r\n")
            self.state = State.LOGOUT
            return None
        finally:
            self.idling = False
        if line.strip().upper() != b"DONE":
            raise CommandError("Expected DONE")
        return "OK IDLE terminated"
