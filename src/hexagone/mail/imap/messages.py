"""The storage boundary of an IMAP session, message side: reading rows and blobs for
FETCH and SEARCH, and changing messages through :mod:`hexagone.mail.service.store`.

Reads select only the columns a command needs, for all its messages in one query per
200 UID ranges (a client's ``1:500`` is one range), as plain rows rather than ORM
objects. Changes go through the store, which allocates UIDs and modseqs, keeps quotas,
and announces them to the other sessions after commit.
"""

from __future__ import annotations

import asyncio
import uuid
from array import array
from collections import namedtuple
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import Integer, Text, case, cast, func, select

from hexagone.core import blobs
from hexagone.core.blobs import BlobNotFound
from hexagone.core.exceptions import Invalid
from hexagone.mail import mime
from hexagone.mail.imap.account import Account, FolderRef, uid_list
from hexagone.mail.imap.parser import CommandError
from hexagone.mail.imap.query import Compiled, UidRanges, merge, uid_condition
from hexagone.mail.models import Folder, Message
from hexagone.mail.service import store, writers

RANGES_PER_QUERY = 200
MESSAGES_PER_CHANGE = 2000  # rows per store call, under every database's parameter limit
JSON_COLUMNS = ("envelope", "structure", "keywords")  # read as text, parsed by fetch.decoded
FLAG_FIELDS = ("seen", "answered", "flagged", "deleted", "draft", "keywords")
FLAG_BITS = (("seen", 1), ("answered", 2), ("flagged", 4), ("deleted", 8), ("draft", 16))


def bits_of(row: Any) -> int:
    """A message's system flags as one byte (``row`` has the five boolean columns)."""
    return sum(bit for name, bit in FLAG_BITS if getattr(row, name))


def _packed_flags() -> Any:
    """The same byte computed by the database: one column to read instead of five."""
    packed: Any = None
    for name, bit in FLAG_BITS:
        term = cast(getattr(Message, name), Integer) * bit
        packed = term if packed is None else packed + term
    return packed


class FolderGone(Exception):
    """The selected folder was deleted by another session."""


@dataclass(slots=True)
class Changes:
    highest_modseq: int
    present: array[int] | None  # the known UIDs still there, when some were expunged
    rows: list[Any]  # uid, modseq and flags of every message changed or added since


@dataclass(slots=True)
class CopyResult:
    target_id: uuid.UUID
    uidvalidity: int
    source_uids: list[int]
    target_uids: list[int]


def _groups(ranges: UidRanges) -> list[UidRanges]:
    ranges = merge(ranges)
    return [ranges[i : i + RANGES_PER_QUERY] for i in range(0, len(ranges), RANGES_PER_QUERY)]


def _chunks(items: Sequence[Any], size: int = MESSAGES_PER_CHANGE) -> list[Sequence[Any]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def _refusal(error: Exception) -> CommandError:
    if isinstance(error, store.QuotaExceeded):
        return CommandError("Mailbox is full", status="NO", code="OVERQUOTA")
    if isinstance(error, Invalid):
        return CommandError(error.message)
    raise error


def _column(name: str) -> Any:
    """How FETCH reads a column: JSON and dates as text, which costs less to turn into
    Python objects than the driver's and SQLAlchemy's conversions (the fetch module parses
    what it uses), keywords as NULL when there are none (nearly always), flags packed."""
    if name == "flag_bits":
        return _packed_flags().label(name)
    if name == "keywords":
        text = cast(Message.keywords, Text)
        return case((text == "[]", None), else_=text).label(name)
    if name in JSON_COLUMNS or name == "internal_date":
        return cast(getattr(Message, name), Text).label(name)
    return getattr(Message, name)


async def json_columns(
    account: Account, folder_id: uuid.UUID, uids: list[int], names: tuple[str, ...]
) -> dict[int, Any]:
    """UID → the named JSON columns (as text) of some messages."""
    found: dict[int, Any] = {}
    async with account.db() as db:
        for chunk in _chunks(uids):
            query = select(Message.uid, *(_column(name) for name in names)).where(
                Message.folder_id == folder_id, Message.uid.in_(list(chunk))
            )
            found.update((row.uid, row) for row in (await db.execute(query)).all())
    return found


@cache
def _row_type(names: tuple[str, ...]) -> Any:
    """Plain named tuples for FETCH rows: reading a field of one costs a tenth of reading
    it from SQLAlchemy's Row, and a large FETCH reads several per message."""
    return namedtuple("FetchRow", names)


async def rows(
    account: Account,
    folder_id: uuid.UUID,
    ranges: UidRanges,
    columns: Iterable[str],
    *,
    changed_since: int | None = None,
) -> list[Any]:
    """The requested columns of the messages in ``ranges``, in UID order, as named tuples."""
    names = ("uid", *sorted(set(columns) - {"uid"}))
    selected = [Message.uid, *(_column(name) for name in names[1:])]
    found: list[Any] = []
    async with account.db() as db:
        for group in _groups(ranges):
            query = select(*selected).where(Message.folder_id == folder_id, uid_condition(group))
            if changed_since is not None:
                query = query.where(Message.modseq > changed_since)
            found += map(_row_type(names)._make, (await db.execute(query.order_by(Message.uid))).all())
    return found


async def read_blobs(keys: Sequence[str]) -> list[bytes]:
    """Several messages' bytes in one call to the blob store (see BlobStore.read_many)."""
    return await blobs.get_store().read_many(keys)


async def _folder(db: Any, folder_id: uuid.UUID) -> Folder:
    folder = await db.get(Folder, folder_id)
    if folder is None:
        raise FolderGone
    return folder


@dataclass(slots=True)
class FlagResult:
    messages: list[Any]  # every message the STORE named that still exists, as it is now
    changed: set[int]  # UIDs whose flags changed
    refused: list[int]  # UIDs refused by UNCHANGEDSINCE
    modseq: int | None  # the modseq the change used


async def set_flags(
    account: Account,
    folder: FolderRef,
    ranges: UidRanges,
    flags: list[str],
    mode: str,
    *,
    unchanged_since: int | None = None,
) -> FlagResult:
    """STORE through the store, in one write transaction (shared with other sessions'
    writes: :func:`.writers.run`). Nothing is read before it: the store reads the flags
    under the mailbox lock anyway."""
    try:
        store.check_flags(flags)  # a refusal before the shared transaction, not inside it

        async def work(db: Any) -> list[store.FlagChange]:
            await _folder(db, folder.id)
            return [
                await store.change_flags(
                    db, folder.id, folder.mailbox_id, uid_condition(group), flags, mode, unchanged_since=unchanged_since
                )
                for group in _groups(ranges)
            ]

        found = await writers.run(account.org_id, work)
    except Invalid as error:
        raise _refusal(error) from None
    rows = [row for change in found for row in change.rows]
    modseq = max((change.modseq for change in found if change.modseq is not None), default=None)
    changed = {row.uid for change in found for row in change.changed}
    return FlagResult(rows, changed, [row.uid for change in found for row in change.refused], modseq)


def _as_target(error: CommandError) -> CommandError:
    """The refusal of a missing target of APPEND, COPY or MOVE: ``[TRYCREATE]`` (RFC
    3501 6.3.11 and 6.4.7; a MUST in RFC 9051)."""
    return CommandError("No such mailbox", status="NO", code="TRYCREATE") if error.code == "NONEXISTENT" else error


async def copy(
    account: Account, source_id: uuid.UUID, ranges: UidRanges, target_name: str, *, move: bool
) -> CopyResult | None:
    """COPY or MOVE into a folder the user may write to; None when no message matched."""

    async def work(db: Any) -> CopyResult | None:
        try:
            target, _ = await account.folder(db, target_name, write=True)
        except CommandError as error:
            raise _as_target(error) from None
        source = await _folder(db, source_id)
        messages: list[Message] = []
        for group in _groups(ranges):
            messages += (
                await db.execute(
                    select(Message).where(Message.folder_id == source_id, uid_condition(group)).order_by(Message.uid)
                )
            ).scalars()
        if not messages:
            return None
        pairs = []
        for chunk in _chunks(messages):
            pairs += await (store.move(db, source, chunk, target) if move else store.copy(db, chunk, target))
        if not pairs:  # another session moved or expunged them all meanwhile
            return None
        return CopyResult(target.id, target.uidvalidity, [s.uid for s, _ in pairs], [c.uid for _, c in pairs])

    try:
        return await writers.run(account.org_id, work)
    except (store.QuotaExceeded, Invalid) as error:
        raise _refusal(error) from None


async def expunge(account: Account, folder_id: uuid.UUID, ranges: UidRanges | None = None) -> list[int]:
    """Remove the messages marked \\Deleted (only those in ``ranges`` for UID EXPUNGE)."""

    async def work(db: Any) -> list[int]:
        folder = await _folder(db, folder_id)
        if ranges is None:
            return await store.expunge(db, folder)
        removed: list[int] = []
        for group in _groups(ranges):
            removed += await store.expunge_where(db, folder, Message.deleted.is_(True) & uid_condition(group))
        return removed

    return await writers.run(account.org_id, work)


@dataclass(slots=True)
class AppendRequest:
    name: str
    raw: bytes
    flags: list[str]  # already checked by store.check_flags
    internal_date: datetime | None


async def _targets(account: Account, names: set[str]) -> dict[str, FolderRef | CommandError]:
    found: dict[str, FolderRef | CommandError] = {}
    async with account.db() as db:
        for name in names:
            try:
                folder, access = await account.folder(db, name, write=True)
            except CommandError as error:
                found[name] = _as_target(error)
                continue
            found[name] = account.ref(folder, access, name)
    return found


async def append_many(
    account: Account, requests: list[AppendRequest], *, atomic: bool = False
) -> list[tuple[FolderRef, int] | CommandError]:
    """APPEND, for one command or for several a client pipelined: the bytes of all of
    them are stored (and fsync'd) side by side before the write transaction begins, then
    one transaction adds the rows of each folder in one INSERT (:func:`store.add_messages`)
    and one commit makes them durable. The database's write lock is never held during the
    blob store's disk I/O nor while the messages are parsed, and a batch of fsyncs costs
    about what one does. Each request gets its own answer (a full mailbox refuses only the
    messages that do not fit). With ``atomic`` (MULTIAPPEND, RFC 3502) one refusal
    refuses them all, and none is stored."""
    targets = await _targets(account, {r.name for r in requests})
    refused: list[tuple[FolderRef, int] | CommandError | None] = [
        target if isinstance(target := targets[r.name], CommandError) else None for r in requests
    ]
    todo = [i for i, result in enumerate(refused) if result is None]
    refs = await asyncio.gather(*(store.put_blob(account.org_id, requests[i].raw) for i in todo))
    parsed = {i: mime.parse(requests[i].raw) for i in todo}  # before the write turn, not during it

    async def work(db: Any) -> list[tuple[FolderRef, int] | CommandError | None]:
        results = list(refused)
        if atomic and (error := await _all_or_none(db, requests, targets, refused)) is not None:
            store.forget_blobs(db, account.org_id, [ref.key for ref in refs])
            return [error] * len(requests)
        # Several target mailboxes (a shared one beside the user's): lock them all first, in
        # the store's order, so that two pipelined batches never deadlock each other.
        await store.lock_mailboxes(db, {t.mailbox_id for t in targets.values() if isinstance(t, FolderRef)})
        by_folder: dict[uuid.UUID, list[tuple[int, blobs.BlobRef]]] = {}
        for i, ref in zip(todo, refs, strict=True):
            target = targets[requests[i].name]
            assert isinstance(target, FolderRef)
            by_folder.setdefault(target.id, []).append((i, ref))
        room = await store.room(db, {t.mailbox_id for t in targets.values() if isinstance(t, FolderRef)})
        unused = []
        for folder_id, batch in by_folder.items():
            folder = await db.get(Folder, folder_id)
            fitting = []
            for i, ref in batch:
                if folder is None:  # deleted meanwhile
                    results[i] = CommandError("No such mailbox", status="NO", code="TRYCREATE")
                elif ref.size > room.get(folder.mailbox_id, 0):
                    results[i] = _refusal(store.QuotaExceeded(""))
                else:
                    room[folder.mailbox_id] -= ref.size
                    fitting.append((i, ref))
                    continue
                unused.append(ref.key)
            if folder is None or not fitting:
                continue
            new = [store.NewMessage(ref, parsed[i], requests[i].flags, requests[i].internal_date) for i, ref in fitting]
            uids = await store.add_messages(db, folder, new)
            for (i, _ref), uid in zip(fitting, uids, strict=True):
                target = targets[requests[i].name]
                assert isinstance(target, FolderRef)
                results[i] = (target, uid)
        store.forget_blobs(db, account.org_id, unused)  # the bytes of refused messages
        return results

    results = await writers.run(account.org_id, work)
    assert all(result is not None for result in results)
    return results  # type: ignore[return-value]


async def _all_or_none(
    db: Any,
    requests: list[AppendRequest],
    targets: dict[str, FolderRef | CommandError],
    refused: list[Any],
) -> CommandError | None:
    """Why a MULTIAPPEND cannot store every one of its messages, if it cannot."""
    first = next((r for r in refused if isinstance(r, CommandError)), None)
    if first is not None:
        return first
    refs = [targets[r.name] for r in requests]
    await store.lock_mailboxes(db, {t.mailbox_id for t in refs if isinstance(t, FolderRef)})
    need: dict[uuid.UUID, int] = {}
    for target, request in zip(refs, requests, strict=True):
        assert isinstance(target, FolderRef)
        if await db.get(Folder, target.id) is None:
            return CommandError("No such mailbox", status="NO", code="TRYCREATE")
        need[target.mailbox_id] = need.get(target.mailbox_id, 0) + len(request.raw)
    room = await store.room(db, need)
    if any(size > room.get(mailbox_id, 0) for mailbox_id, size in need.items()):
        return _refusal(store.QuotaExceeded(""))
    return None


async def url_part(account: Account, name: str, uidvalidity: int | None, uid: int) -> tuple[bytes, Any] | None:
    """The bytes and MIME structure of a message an IMAP URL names (CATENATE, RFC 4469),
    in a folder this user may read; None when there is no such message."""
    async with account.db() as db:
        try:
            folder, _ = await account.folder(db, name)
        except CommandError:
            return None
        if uidvalidity is not None and folder.uidvalidity != uidvalidity:
            return None
        row = (
            await db.execute(
                select(Message.blob_key, _column("structure")).where(Message.folder_id == folder.id, Message.uid == uid)
            )
        ).first()
    if row is None:
        return None
    try:
        [raw] = await read_blobs([row.blob_key])
    except BlobNotFound:
        return None
    return raw, row.structure


async def present_uids(account: Account, folder_id: uuid.UUID) -> tuple[array[int], int]:
    """The UIDs in a folder now, and its UIDNEXT."""
    async with account.db() as db:
        uid_next = (await db.execute(select(Folder.uid_next).where(Folder.id == folder_id))).scalar()
        if uid_next is None:
            raise FolderGone
        return await uid_list(db, folder_id), uid_next


async def changes(
    account: Account, folder_id: uuid.UUID, since: int, known_max_uid: int, known_count: int
) -> Changes | None:
    """What happened in a folder after modseq ``since``; None when nothing did."""
    async with account.db() as db:
        highest = (await db.execute(select(Folder.highest_modseq).where(Folder.id == folder_id))).scalar()
        if highest is None:
            raise FolderGone
        if highest == since:
            return None
        present = None
        still_there = (
            await db.execute(select(func.count()).where(Message.folder_id == folder_id, Message.uid <= known_max_uid))
        ).scalar_one()
        if still_there != known_count:
            present = await uid_list(db, folder_id, known_max_uid)
        changed = (
            await db.execute(
                select(Message.uid, Message.modseq, *[getattr(Message, f) for f in FLAG_FIELDS])
                .where(Message.folder_id == folder_id, Message.modseq > since)
                .order_by(Message.uid)
            )
        ).all()
        return Changes(highest, present, changed)


async def search(
    account: Account, folder_id: uuid.UUID, compiled: Compiled, max_uid: int, *, with_modseq: bool = False
) -> list[Any]:
    """The matching messages (uid, and modseq when asked) among those the session knows
    of. Without MODSEQ a flag search reads only the (folder, org, uid, flags) index."""
    columns = [Message.uid, *([Message.modseq] if with_modseq else []), *compiled.columns]
    async with account.db() as db:
        found = (
            await db.execute(
                select(*columns)
                .where(Message.folder_id == folder_id, Message.uid <= max_uid, compiled.where)
                .order_by(Message.uid)
            )
        ).all()
    if compiled.predicate is not None:
        found = [row for row in found if compiled.predicate(row)]
    return found


async def flag_bits(account: Account, folder_id: uuid.UUID, max_uid: int) -> dict[int, int]:
    """UID → flag bits of the messages a session knows of, read from the index alone and
    sent as one string (``uid * 32 + bits``, comma separated) rather than 50,000 rows."""
    packed = Message.uid * 32 + _packed_flags()
    async with account.db() as db:
        text = (
            await db.execute(
                select(func.aggregate_strings(cast(packed, Text), ",")).where(
                    Message.folder_id == folder_id, Message.uid <= max_uid
                )
            )
        ).scalar()
    return {value >> 5: value & 31 for value in map(int, text.split(","))} if text else {}
