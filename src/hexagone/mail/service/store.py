"""The message store: putting messages into folders and changing them, for SMTP, IMAP,
the webmail and imports alike.

Durability order: the bytes go to the blob store first (``put`` returns once they are
fsync'd), then one database transaction adds the rows. A crash between the two leaves an
unreferenced blob (collected later), never a row without its bytes; a message is
acknowledged (SMTP ``250``, IMAP ``OK``) only after the commit.

Every change bumps the folder's ``highest_modseq`` and stamps the changed rows with it
(CONDSTORE), and is announced on the bus after commit on ``mail.mailbox.<id>``
(``{"folder_id", "kind": "added"|"flags"|"expunged"}``) so that IDLE sessions and open
webmail pages hear of it at once.

Concurrency: one lock order everywhere, so that concurrent sessions wait for each other
instead of deadlocking (PostgreSQL aborts one of two sessions that wait for each other):

1. the mailbox rows the transaction changes (:func:`lock_mailboxes`, by id), before
   anything else. The mailbox row holds the quota, and every folder and message belongs
   to one mailbox, so this one lock serialises all the writers of a mailbox: an APPEND, a
   delivery, a STORE, a COPY, a MOVE, an EXPUNGE of one mailbox take turns;
2. then the folder rows (UIDs and modseqs, :func:`_allocate`);
3. then the message rows.

A transaction that calls several of these functions (a webmail action, a pipelined
APPEND) keeps that order as long as it touches one mailbox, or locks all of its mailboxes
first. Under the lock, the messages the caller read before are read again
(:func:`_current`): what another session changed or removed meanwhile is seen, never
overwritten, copied or counted twice; rows are removed with ``DELETE … RETURNING`` so that
the quota is credited with what this transaction actually removed.

On PostgreSQL (READ COMMITTED) the mailbox lock is a row lock, and every statement after
it sees what the sessions it waited for committed. On SQLite a write session
(``org_session(..., write=True)``) holds the database's write lock from its first
statement, and the mailbox lock is then nothing more; in any other session it is an
UPDATE, which takes that write lock before anything is read.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, Row, case, delete, func, insert, inspect, select, true, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key

from hexagone.core import blobs, jobs
from hexagone.core.db import WRITE_OPTION, org_session, utcnow
from hexagone.core.exceptions import Invalid, ServiceError
from hexagone.core.i18n import gettext as _
from hexagone.core.pubsub import events
from hexagone.core.tenancy import CrossOrganisationWrite
from hexagone.mail import mime
from hexagone.mail.models import INBOX, Folder, Mailbox, Message, OutboundMessage
from hexagone.mail.service import writers
from hexagone.mail.service.groupcommit import GroupCommit

SYSTEM_FLAGS = {
    "\\seen": "seen",
    "\\answered": "answered",
    "\\flagged": "flagged",
    "\\deleted": "deleted",
    "\\draft": "draft",
}
FLAG_NAMES = {column: flag for flag, column in ((f"\\{c.capitalize()}", c) for c in SYSTEM_FLAGS.values())}
FRESH_COLUMNS = ("modseq", *SYSTEM_FLAGS.values(), "keywords")  # what another session may change in place
MAX_KEYWORDS = 50
IDS_PER_STATEMENT = 2000  # under every database's limit of bound parameters
MAX_KEYWORD_LENGTH = 100
BLOB_GC_DELAY = timedelta(hours=1)
GC_JOB = "mail.blob_gc"


class QuotaExceeded(ServiceError):
    """The mailbox is full (SMTP 552 5.2.2, IMAP [OVERQUOTA])."""


def change_channel(mailbox_id: uuid.UUID) -> str:
    return f"mail.mailbox.{mailbox_id}"


def announce(db: AsyncSession, folder: Folder, kind: str) -> None:
    _announce(db, folder.mailbox_id, folder.id, kind)


def _announce(db: AsyncSession, mailbox_id: uuid.UUID, folder_id: uuid.UUID, kind: str) -> None:
    events.publish_on_commit(db, change_channel(mailbox_id), {"folder_id": folder_id, "kind": kind})


def announce_name(db: AsyncSession, folder: Folder, kind: str, old: str = "") -> None:
    """A folder was ``created``, ``renamed`` (from ``old``) or ``deleted``: announced with its
    name, which is gone from the database once a deletion is committed (RFC 5465 MailboxName)."""
    payload = {"folder_id": folder.id, "kind": kind, "name": folder.name, "old": old}
    events.publish_on_commit(db, change_channel(folder.mailbox_id), payload)


def blob_key(org_id: uuid.UUID) -> str:
    """Every delivery has its own key; the copies of a message share it."""
    return f"org/{org_id}/mail/{utcnow():%Y%m}/{uuid.uuid4().hex}"


async def put_blob(org_id: uuid.UUID, raw: bytes) -> blobs.BlobRef:
    return await blobs.get_store().put(raw, key=blob_key(org_id))


async def read(message: Message) -> bytes:
    return await blobs.get_store().read(message.blob_key)


# --- flags -----------------------------------------------------------------------------


def check_flags(flags: Iterable[str]) -> list[str]:
    """Normalise IMAP flags: system flags to their canonical case, keywords as given.
    ``\\Recent`` is session state and is ignored; unknown system flags are refused."""
    result: list[str] = []
    for flag in flags:
        lowered = flag.lower()
        if lowered == "\\recent":
            continue
        if lowered.startswith("\\"):
            if lowered not in SYSTEM_FLAGS:
                raise Invalid(_("Unknown system flag %(flag)s.", flag=flag))
            flag = FLAG_NAMES[SYSTEM_FLAGS[lowered]]
        elif (
            not flag or len(flag) > MAX_KEYWORD_LENGTH or any(c in flag for c in '(){ %*"\\]') or not flag.isprintable()
        ):
            raise Invalid(_("Invalid keyword %(keyword)s.", keyword=repr(flag)))
        if flag not in result:
            result.append(flag)
    return result


def flags_of(message: Message) -> list[str]:
    return [flag for column, flag in FLAG_NAMES.items() if getattr(message, column)] + list(message.keywords or [])


def _flagged(row: Any, flags: list[str], mode: str) -> dict[str, Any] | None:
    """The flag columns of ``row`` (a message or a plain row) once ``flags`` are set,
    added or removed; None when nothing changes."""
    wanted = set(flags)
    values: dict[str, Any] = {}
    for column, flag in FLAG_NAMES.items():
        if mode == "set":
            values[column] = flag in wanted
        else:
            values[column] = mode == "add" if flag in wanted else bool(getattr(row, column))
    keywords = [f for f in flags if not f.startswith("\\")]
    current = list(row.keywords or [])
    if mode == "set":
        current = keywords
    elif mode == "add":
        current += [k for k in keywords if k not in current]
    else:
        current = [k for k in current if k not in keywords]
    if len(current) > MAX_KEYWORDS:
        raise Invalid(_("Too many keywords on one message."))
    values["keywords"] = current
    before = {column: bool(getattr(row, column)) for column in FLAG_NAMES}
    if values == {**before, "keywords": list(row.keywords or [])}:
        return None
    return values


# --- locking ---------------------------------------------------------------------------


async def lock_mailboxes(db: AsyncSession, mailbox_ids: Iterable[uuid.UUID]) -> None:
    """Lock the rows of these mailboxes until the transaction ends, in id order (the
    first step of the lock order in the module docstring). A no-op UPDATE rather than
    ``SELECT … FOR UPDATE``, so that it also takes SQLite's write lock; nothing at all in
    a SQLite write session, which holds that lock since its ``BEGIN IMMEDIATE`` (under
    ten IMAP sessions' writes, each statement in the write turn costs a trip through a
    busy event loop that the next writer waits for)."""
    bind = db.get_bind()
    if bind.dialect.name == "sqlite" and bind.get_execution_options().get(WRITE_OPTION):
        return
    for mailbox_id in sorted(set(mailbox_ids)):
        await db.execute(
            update(Mailbox)
            .where(Mailbox.id == mailbox_id)
            .values(used_bytes=Mailbox.used_bytes)
            .execution_options(synchronize_session=False)
        )


async def _current(db: AsyncSession, messages: Sequence[Message]) -> list[Message]:
    """Those of ``messages`` that still exist, their flags and modseq read again into the
    same objects. Called under the mailbox lock: the caller read the messages before, and
    another session may have changed or removed them since."""
    if not messages:
        return []
    rows = {
        row.id: row
        for row in await db.execute(
            select(Message.id, *[getattr(Message, column) for column in FRESH_COLUMNS]).where(
                Message.id.in_([m.id for m in messages])
            )
        )
    }
    current = []
    for message in messages:
        if (row := rows.get(message.id)) is not None:
            for column in FRESH_COLUMNS:
                set_committed_value(message, column, getattr(row, column))
            current.append(message)
    return current


# --- adding ----------------------------------------------------------------------------


async def _allocate(db: AsyncSession, folder: Folder, count: int) -> tuple[int, int]:
    """Reserve ``count`` UIDs and one modseq in the folder, atomically; returns the first
    UID and the modseq. Invalid when the folder was deleted meanwhile."""
    uid, modseq = await _reserve(db, folder.id, count)
    # The row already holds these: set as loaded, not as changes a flush would write again.
    set_committed_value(folder, "uid_next", uid + count)
    set_committed_value(folder, "highest_modseq", modseq)
    return uid, modseq


async def _reserve(db: AsyncSession, folder_id: uuid.UUID, count: int) -> tuple[int, int]:
    """:func:`_allocate` for a folder known by its id. In a transaction that several IMAP
    writes share (:func:`.writers.run`), where the folder row was read under the write
    lock, the counters are taken from it in Python and written once before the commit:
    one UPDATE per folder for the batch, not one per write."""
    finish = writers.finishing(db)
    if finish is not None and (folder := _loaded_folder(db, folder_id)) is not None:
        uid, modseq = folder.uid_next, folder.highest_modseq + 1
        set_committed_value(folder, "uid_next", uid + count)
        set_committed_value(folder, "highest_modseq", modseq)
        finish.setdefault(f"folder {folder_id}", partial(_write_counters, folder))
        return uid, modseq
    row = (
        await db.execute(
            update(Folder)
            .where(Folder.id == folder_id)
            .values(uid_next=Folder.uid_next + count, highest_modseq=Folder.highest_modseq + 1)
            .returning(Folder.uid_next, Folder.highest_modseq)
            .execution_options(synchronize_session=False)
        )
    ).one_or_none()
    if row is None:
        raise Invalid(_("The folder is gone."))
    return row[0] - count, row[1]


def _loaded_folder(db: AsyncSession, folder_id: uuid.UUID) -> Folder | None:
    """The folder's row as this session already holds it, counters loaded; None if not."""
    folder = db.sync_session.identity_map.get(identity_key(Folder, folder_id))
    if not isinstance(folder, Folder) or {"uid_next", "highest_modseq"} - inspect(folder).dict.keys():
        return None
    return folder


async def _write_counters(folder: Folder, db: AsyncSession) -> None:
    await db.execute(
        update(Folder)
        .where(Folder.id == folder.id)
        .values(uid_next=folder.uid_next, highest_modseq=folder.highest_modseq)
        .execution_options(synchronize_session=False)
    )


async def room(db: AsyncSession, mailbox_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, int]:
    """Bytes left under each mailbox's quota (read under the caller's mailbox lock)."""
    query = select(Mailbox.id, Mailbox.quota_bytes - Mailbox.used_bytes).where(Mailbox.id.in_(set(mailbox_ids)))
    return dict((await db.execute(query)).all())


async def _charge(db: AsyncSession, mailbox_id: uuid.UUID, size: int) -> None:
    """Count ``size`` bytes against the mailbox's quota, or refuse if they do not fit.
    An UPDATE of the mailbox row: it locks the mailbox when nothing did before."""
    result = await db.execute(
        update(Mailbox)
        .where(Mailbox.id == mailbox_id, Mailbox.used_bytes + size <= Mailbox.quota_bytes)
        .values(used_bytes=Mailbox.used_bytes + size)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount == 0:  # type: ignore[attr-defined]  # an UPDATE gives a CursorResult
        raise QuotaExceeded(_("The mailbox is full."))


async def _credit(db: AsyncSession, mailbox_id: uuid.UUID, size: int) -> None:
    """Give back ``size`` bytes of the mailbox's quota: those of rows this transaction removed."""
    if size:
        await db.execute(
            update(Mailbox)
            .where(Mailbox.id == mailbox_id)
            .values(used_bytes=Mailbox.used_bytes - size)
            .execution_options(synchronize_session=False)
        )


def _new_row(
    folder_id: uuid.UUID,
    mailbox_id: uuid.UUID,
    org_id: uuid.UUID,
    uid: int,
    modseq: int,
    ref: blobs.BlobRef,
    parsed: mime.Parsed,
    internal_date: datetime,
    thread_id: uuid.UUID,
    flags: Sequence[str] = (),
) -> dict[str, Any]:
    """The columns of a new message row; ``flags`` already checked (:func:`check_flags`)."""
    wanted = set(flags)
    return {
        "id": uuid.uuid4(),
        "org_id": org_id,
        "mailbox_id": mailbox_id,
        "folder_id": folder_id,
        "uid": uid,
        "modseq": modseq,
        "internal_date": internal_date,
        "size": ref.size,
        "sha256": ref.sha256,
        "blob_key": ref.key,
        **parsed_columns(parsed),
        "keywords": [f for f in flags if not f.startswith("\\")],
        "thread_id": thread_id,
        **{column: flag in wanted for column, flag in FLAG_NAMES.items()},
    }


def parsed_columns(parsed: mime.Parsed) -> dict[str, Any]:
    """The columns of a message row that come from reading the message itself: what a
    later release may read differently (:mod:`hexagone.mail.service.reparse`)."""
    return {
        "header": parsed.header,
        "envelope": parsed.envelope,
        "structure": parsed.structure,
        "subject": parsed.subject,
        "from_addr": parsed.from_addr,
        "to_addrs": parsed.to_addrs,
        "cc_addrs": parsed.cc_addrs,
        "bcc_addrs": parsed.bcc_addrs,
        "sent_date": parsed.sent_date,
        "sent_on": parsed.sent_on,
        "message_id": parsed.message_id,
        "preview": parsed.preview,
        "text": parsed.text,
        "search_text": parsed.search_text,
        "part_headers": parsed.part_headers,
        "has_attachments": parsed.has_attachments,
    }


async def add_message(
    db: AsyncSession,
    folder: Folder,
    raw: bytes,
    ref: blobs.BlobRef,
    *,
    parsed: mime.Parsed | None = None,
    flags: Sequence[str] = (),
    internal_date: datetime | None = None,
) -> Message:
    """Add a message whose bytes are already stored (``ref``) to ``folder``, in the
    caller's transaction. Raises QuotaExceeded when the mailbox is full. The quota is
    charged first: that UPDATE is the mailbox lock (see the module docstring)."""
    [row] = await _rows(db, folder, [NewMessage(ref, parsed or mime.parse(raw), flags, internal_date)])
    message = Message(**row)
    db.add(message)
    await db.flush()
    announce(db, folder, "added")
    return message


@dataclass(frozen=True)
class NewMessage:
    """A message whose bytes are stored, to add to a folder."""

    ref: blobs.BlobRef
    parsed: mime.Parsed
    flags: Sequence[str] = ()
    internal_date: datetime | None = None  # now, if None


async def add_messages(db: AsyncSession, folder: Folder, new: Sequence[NewMessage]) -> list[int]:
    """:func:`add_message` for several messages of one folder (an import's batch), as
    one INSERT of plain rows (no ORM object each); returns their UIDs."""
    if not new:
        return []
    rows = await _rows(db, folder, new)
    await _insert(db, rows)
    announce(db, folder, "added")
    return [row["uid"] for row in rows]


async def _insert(db: AsyncSession, rows: list[dict[str, Any]]) -> None:
    """One INSERT of message rows. Plain rows pass no flush, where the tenancy layer
    checks the organisation of what a session writes: checked here."""
    org_id = db.info.get("org_id")
    if org_id is not None and any(row["org_id"] != org_id for row in rows):
        raise CrossOrganisationWrite("Message belongs to another organisation")
    await db.execute(insert(Message), rows)


async def _rows(db: AsyncSession, folder: Folder, new: Sequence[NewMessage]) -> list[dict[str, Any]]:
    """The rows of new messages of ``folder``: one quota charge for all (QuotaExceeded if
    they do not all fit), one UID allocation and modseq, one lookup of their
    conversations."""
    flags = [check_flags(n.flags) for n in new]
    await _charge(db, folder.mailbox_id, sum(n.ref.size for n in new))
    first_uid, modseq = await _allocate(db, folder, len(new))
    threads = await _threads_of(db, [(folder.mailbox_id, n.parsed) for n in new])
    now = utcnow()
    return [
        _new_row(
            folder.id,
            folder.mailbox_id,
            folder.org_id,
            first_uid + offset,
            modseq,
            item.ref,
            item.parsed,
            item.internal_date or now,
            thread,
            wanted,
        )
        for offset, (item, wanted, thread) in enumerate(zip(new, flags, threads, strict=True))
    ]


async def append(
    db: AsyncSession, folder: Folder, raw: bytes, *, flags: Sequence[str] = (), internal_date: datetime | None = None
) -> Message:
    """IMAP APPEND, a saved draft, a sent copy, an imported message: store then add."""
    ref = await put_blob(folder.org_id, raw)
    return await add_message(db, folder, raw, ref, flags=flags, internal_date=internal_date)


async def deliver(org_id: uuid.UUID, folder_ids: Sequence[uuid.UUID], raw: bytes) -> list[Message]:
    """Deliver one message to several folders: one blob, and the rows all or nothing
    (QuotaExceeded if one of their mailboxes is full, Invalid if a folder is gone).
    Returns the messages in the order of ``folder_ids``. See :func:`deliver_stored`."""
    ref = await put_blob(org_id, raw)
    delivered = await deliver_stored(org_id, ref, mime.parse(raw), folder_ids=folder_ids)
    return delivered.messages


# --- delivering, several messages in one transaction ------------------------------------


@dataclass(frozen=True)
class Delivered:
    """What a delivery stored: the messages, in the order of its targets, and the targets
    left out because their mailbox was full (with ``skip_full``)."""

    messages: list[Message]
    full: list[uuid.UUID]


# Called in the delivery's transaction once its rows are added (to publish events with it).
OnStored = Callable[[AsyncSession, Delivered], None]


@dataclass(frozen=True, eq=False)
class _Delivery:
    ref: blobs.BlobRef
    parsed: mime.Parsed
    folder_ids: tuple[uuid.UUID, ...]  # target folders, or
    inboxes: tuple[uuid.UUID, ...]  # mailboxes whose INBOX is a target (folder_ids come first)
    flags: Mapping[uuid.UUID, Sequence[str]]  # of some of folder_ids, checked (check_flags)
    skip_full: bool
    on_stored: OnStored | None


async def deliver_stored(
    org_id: uuid.UUID,
    ref: blobs.BlobRef,
    parsed: mime.Parsed,
    *,
    folder_ids: Sequence[uuid.UUID] = (),
    inboxes: Sequence[uuid.UUID] = (),
    flags: Mapping[uuid.UUID, Sequence[str]] | None = None,
    skip_full: bool = False,
    on_stored: OnStored | None = None,
) -> Delivered:
    """Add a message whose bytes are stored (``ref``) to ``folder_ids`` and to the INBOX of
    the mailboxes ``inboxes``: an SMTP transaction's local recipients in one organisation.
    Returns once the rows are committed, in a transaction shared with the deliveries that
    arrived meanwhile (:mod:`.groupcommit`): one commit, and on SQLite one turn of the
    write lock, for all of them. A full mailbox refuses the whole delivery
    (QuotaExceeded), or with ``skip_full`` only its own copies (in ``Delivered.full``).
    ``flags`` are those of the copies in some of ``folder_ids`` (a mail rule's), already
    checked with :func:`check_flags`."""
    item = _Delivery(ref, parsed, tuple(folder_ids), tuple(inboxes), flags or {}, skip_full, on_stored)
    return await _deliveries.submit(org_id, item)


async def _deliver_batch(org_id: uuid.UUID, items: list[_Delivery]) -> list[Delivered | Exception]:
    async with writers.write_session(org_id) as db:
        outcomes = await _deliver_in(db, items)
        await db.commit()
    return outcomes


async def _deliver_in(db: AsyncSession, items: list[_Delivery]) -> list[Delivered | Exception]:
    """The rows of a batch of deliveries, in the caller's transaction: every mailbox the
    batch touches is locked first (in id order), the quotas and UIDs are decided in
    Python, then one UPDATE per folder and per mailbox and one INSERT for all the rows."""
    wanted = {f for item in items for f in item.folder_ids}
    folders: dict[uuid.UUID, uuid.UUID] = {}  # folder -> its mailbox
    if wanted:
        query = select(Folder.id, Folder.mailbox_id).where(Folder.id.in_(wanted))
        folders.update((await db.execute(query)).all())
    inbox_of: dict[uuid.UUID, uuid.UUID] = {}  # mailbox -> its INBOX
    if boxes := {m for item in items for m in item.inboxes}:
        query = select(Folder.mailbox_id, Folder.id).where(Folder.mailbox_id.in_(boxes), Folder.name == INBOX)
        inbox_of.update((await db.execute(query)).all())
        folders.update({folder_id: mailbox_id for mailbox_id, folder_id in inbox_of.items()})
    await lock_mailboxes(db, set(folders.values()))
    quotas = await db.execute(
        select(Mailbox.id, Mailbox.used_bytes, Mailbox.quota_bytes).where(Mailbox.id.in_(set(folders.values())))
    )
    room = {mailbox_id: quota - used for mailbox_id, used, quota in quotas}
    outcomes: list[Delivered | Exception | None] = []
    plans: list[tuple[int, _Delivery, list[uuid.UUID], list[uuid.UUID]]] = []  # outcome index, item, folders, full
    charges: dict[uuid.UUID, int] = {}
    added: dict[uuid.UUID, int] = {}  # folder -> messages it gets
    for item in items:
        if any(m not in inbox_of for m in item.inboxes):
            outcomes.append(Invalid(_("The folder is gone.")))
            continue
        targets = [*item.folder_ids, *(inbox_of[m] for m in item.inboxes)]
        if any(t not in folders or folders[t] not in room for t in targets):
            outcomes.append(Invalid(_("The folder is gone.")))
            continue
        need: dict[uuid.UUID, int] = {}
        for target in targets:
            need[folders[target]] = need.get(folders[target], 0) + item.ref.size
        fits = {m for m, size in need.items() if size <= room[m]}
        if len(fits) < len(need) and not item.skip_full:
            outcomes.append(QuotaExceeded(_("The mailbox is full.")))
            continue
        for mailbox_id in fits:
            room[mailbox_id] -= need[mailbox_id]
            charges[mailbox_id] = charges.get(mailbox_id, 0) + need[mailbox_id]
        chosen = [t for t in targets if folders[t] in fits]
        for target in chosen:
            added[target] = added.get(target, 0) + 1
        plans.append((len(outcomes), item, chosen, [t for t in targets if folders[t] not in fits]))
        outcomes.append(None)
    for mailbox_id, size in sorted(charges.items()):
        await _charge(db, mailbox_id, size)
    next_uid = {folder_id: await _reserve(db, folder_id, count) for folder_id, count in sorted(added.items())}
    threads = iter(await _threads_of(db, [(folders[t], item.parsed) for _, item, chosen, _ in plans for t in chosen]))
    now, org_id = utcnow(), db.info["org_id"]
    rows: list[dict[str, Any]] = []
    for index, item, chosen, full in plans:
        messages = []
        for target in chosen:
            uid, modseq = next_uid[target]
            next_uid[target] = (uid + 1, modseq)
            thread = next(threads)
            flags = item.flags.get(target, ())
            rows.append(
                _new_row(target, folders[target], org_id, uid, modseq, item.ref, item.parsed, now, thread, flags)
            )
            messages.append(Message(**rows[-1]))  # what the caller reads: not in the session
        outcomes[index] = Delivered(messages, full)
    if rows:
        await _insert(db, rows)
    for folder_id in added:
        _announce(db, folders[folder_id], folder_id, "added")
    for index, item, _chosen, _full in plans:
        delivered = outcomes[index]
        if item.on_stored is not None and isinstance(delivered, Delivered):
            item.on_stored(db, delivered)
    return [outcome for outcome in outcomes if outcome is not None]


async def _threads_of(db: AsyncSession, copies: list[tuple[uuid.UUID, mime.Parsed]]) -> list[uuid.UUID]:
    """The conversation of each of a batch of new copies (mailbox, message): that of the
    first message it answers found in its mailbox (one indexed lookup by Message-ID for
    the whole batch; a reply to a message of the same batch joins it), else a new one. A
    reply that arrives before the message it answers starts its own (looking for it
    would scan every header)."""
    parents = {p for _, parsed in copies for p in (parsed.in_reply_to, *parsed.references) if p}
    known: dict[tuple[uuid.UUID, str], uuid.UUID] = {}
    if parents:
        query = select(Message.mailbox_id, Message.message_id, Message.thread_id).where(
            Message.mailbox_id.in_({m for m, _ in copies}), Message.message_id.in_(parents)
        )
        for mailbox_id, message_id, thread_id in await db.execute(query):
            known.setdefault((mailbox_id, message_id), thread_id)
    threads = []
    for mailbox_id, parsed in copies:
        candidates = [parsed.in_reply_to, *reversed(parsed.references)]
        found = next((known[(mailbox_id, p)] for p in candidates if p and (mailbox_id, p) in known), None)
        threads.append(found or uuid.uuid4())
        if parsed.message_id:
            known.setdefault((mailbox_id, parsed.message_id), threads[-1])
    return threads


_deliveries: GroupCommit[uuid.UUID, _Delivery, Delivered] = GroupCommit(_deliver_batch)


# --- reading ---------------------------------------------------------------------------


async def messages_by_uid(db: AsyncSession, folder: Folder, uids: Iterable[int] | None = None) -> list[Message]:
    query = select(Message).where(Message.folder_id == folder.id).order_by(Message.uid)
    if uids is not None:
        query = query.where(Message.uid.in_(list(uids)))
    return list((await db.execute(query)).scalars())


async def counts(db: AsyncSession, folder_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, tuple[int, int]]:
    """(messages, unseen) per folder."""
    rows = await db.execute(
        select(Message.folder_id, func.count(), func.sum(case((Message.seen.is_(False), 1), else_=0)))
        .where(Message.folder_id.in_(list(folder_ids)))
        .group_by(Message.folder_id)
    )
    return {folder_id: (total, int(unseen or 0)) for folder_id, total, unseen in rows}


# --- changing --------------------------------------------------------------------------


def _flag_request(flags: Sequence[str], mode: str) -> list[str]:
    if mode not in ("set", "add", "remove"):
        raise Invalid(_("Unknown flag mode."))
    return check_flags(flags)


class FlagRow(NamedTuple):
    """A message's flags, as STORE reads and writes them (the columns of FRESH_COLUMNS)."""

    id: uuid.UUID
    uid: int
    modseq: int
    seen: bool
    answered: bool
    flagged: bool
    deleted: bool
    draft: bool
    keywords: list[str]


@dataclass(frozen=True, slots=True)
class FlagChange:
    """What a STORE found and did, as plain rows (by UID)."""

    rows: list[FlagRow]  # every message named that still exists, its flags as they are now
    changed: list[FlagRow]  # those whose flags this change set
    refused: list[FlagRow]  # those refused by UNCHANGEDSINCE
    modseq: int | None  # the modseq the change used, if it changed anything


async def change_flags(
    db: AsyncSession,
    folder_id: uuid.UUID,
    mailbox_id: uuid.UUID,
    which: ColumnElement[bool],
    flags: Sequence[str],
    mode: str,
    *,
    unchanged_since: int | None = None,
) -> FlagChange:
    """IMAP STORE on the messages of a folder that meet ``which``, in plain rows. Their
    flags and modseqs are read under the mailbox lock, so that a concurrent STORE's change
    is kept and UNCHANGEDSINCE compares with the modseq as it is; a message expunged
    meanwhile is simply not there. The changed rows are written with one UPDATE per
    distinct resulting set of flags (one for a ``+FLAGS``): under ten sessions' STOREs,
    every statement of a write transaction is time that the next writer waits."""
    flags = _flag_request(flags, mode)
    await lock_mailboxes(db, [mailbox_id])
    query = select(Message.id, Message.uid, *[getattr(Message, c) for c in FRESH_COLUMNS]).where(
        Message.folder_id == folder_id, which
    )
    rows = [FlagRow._make(row) for row in await db.execute(query.order_by(Message.uid))]
    refused = [row for row in rows if unchanged_since is not None and row.modseq > unchanged_since]
    updates: dict[tuple[Any, ...], list[int]] = {}  # the new flag columns -> positions in rows
    for index, row in enumerate(rows):
        if unchanged_since is not None and row.modseq > unchanged_since:
            continue
        values = _flagged(row, flags, mode)
        if values is not None:
            updates.setdefault(tuple((k, tuple(v) if k == "keywords" else v) for k, v in values.items()), []).append(
                index
            )
    if not updates:
        return FlagChange(rows, [], refused, None)
    modseq = (await _reserve(db, folder_id, 0))[1]
    changed = []
    for key, positions in updates.items():
        values = {k: list(v) if k == "keywords" else v for k, v in key}
        for start in range(0, len(positions), IDS_PER_STATEMENT):
            ids = [rows[i].id for i in positions[start : start + IDS_PER_STATEMENT]]
            await db.execute(
                update(Message)
                .where(Message.id.in_(ids))
                .values(modseq=modseq, **values)
                .execution_options(synchronize_session=False)
            )
        for i in positions:
            rows[i] = rows[i]._replace(modseq=modseq, **values)
            changed.append(rows[i])
    _announce(db, mailbox_id, folder_id, "flags")
    return FlagChange(rows, sorted(changed, key=lambda row: row.uid), refused, modseq)


async def store_flags(
    db: AsyncSession,
    folder: Folder,
    messages: Sequence[Message],
    flags: Sequence[str],
    mode: str,
    *,
    unchanged_since: int | None = None,
) -> tuple[list[Message], list[Message]]:
    """:func:`change_flags` on loaded messages: returns (changed, refused by
    UNCHANGEDSINCE), the messages' flags and modseq set to what they are now."""
    if not messages:
        _flag_request(flags, mode)
        return [], []
    by_id = {message.id: message for message in messages}
    change = await change_flags(
        db, folder.id, folder.mailbox_id, Message.id.in_(list(by_id)), flags, mode, unchanged_since=unchanged_since
    )
    for row in change.rows:
        for column in FRESH_COLUMNS:
            set_committed_value(by_id[row.id], column, getattr(row, column))
    if change.modseq is not None:
        set_committed_value(folder, "highest_modseq", change.modseq)
    return [by_id[row.id] for row in change.changed], [by_id[row.id] for row in change.refused]


async def copy(db: AsyncSession, messages: Sequence[Message], target: Folder) -> list[tuple[Message, Message]]:
    """IMAP COPY: new rows in ``target`` sharing the blobs; (source, copy) pairs. Only the
    messages that still exist under the lock are copied, with their flags as they are."""
    if not messages:
        return []
    await lock_mailboxes(db, [target.mailbox_id, *(m.mailbox_id for m in messages)])
    sources = await _current(db, messages)
    if not sources:
        return []
    await _charge(db, target.mailbox_id, sum(m.size for m in sources))
    return await _add_copies(db, sources, target)


async def _add_copies(db: AsyncSession, sources: Sequence[Message], target: Folder) -> list[tuple[Message, Message]]:
    """The rows of COPY and MOVE, the quota already charged."""
    first_uid, modseq = await _allocate(db, target, len(sources))
    pairs = []
    for offset, source in enumerate(sources):
        copied = Message(
            **{
                c.key: getattr(source, c.key)
                for c in Message.__table__.columns
                # saved_at: a copy is saved now (RFC 8514 SAVEDATE), its column default
                if c.key not in ("id", "folder_id", "mailbox_id", "uid", "modseq", "saved_at")
            }
        )
        copied.id = uuid.uuid4()
        copied.folder_id, copied.mailbox_id, copied.uid, copied.modseq = (
            target.id,
            target.mailbox_id,
            first_uid + offset,
            modseq,
        )
        if copied.mailbox_id != source.mailbox_id:
            copied.thread_id = uuid.uuid4()
        db.add(copied)
        pairs.append((source, copied))
    await db.flush()
    announce(db, target, "added")
    return pairs


async def move(
    db: AsyncSession, folder: Folder, messages: Sequence[Message], target: Folder
) -> list[tuple[Message, Message]]:
    """IMAP MOVE, in one transaction: the sources are removed first, and only what this
    transaction removed is copied, so that two sessions moving the same messages at once
    move each exactly once. Within one mailbox the quota does not change."""
    if not messages:
        return []
    await lock_mailboxes(db, [folder.mailbox_id, target.mailbox_id])
    sources = await _current(db, messages)
    removed = {row.uid for row in await _remove(db, folder, Message.id.in_([m.id for m in sources]))}
    moved = [m for m in sources if m.uid in removed]
    if moved and target.mailbox_id != folder.mailbox_id:
        size = sum(m.size for m in moved)
        await _charge(db, target.mailbox_id, size)
        await _credit(db, folder.mailbox_id, size)
    return await _add_copies(db, moved, target) if moved else []


async def move_all(db: AsyncSession, folder: Folder, target: Folder) -> None:
    await move(db, folder, await messages_by_uid(db, folder), target)


async def expunge(db: AsyncSession, folder: Folder, uids: Sequence[int] | None = None) -> list[int]:
    """Remove messages for good: those with ``uids``, else all marked \\Deleted.
    Returns the UIDs this transaction removed, in order (not those another session
    removed first). Their blobs are collected later if unused."""
    return await expunge_where(
        db, folder, Message.uid.in_(list(uids)) if uids is not None else Message.deleted.is_(True)
    )


async def empty(db: AsyncSession, folder: Folder) -> list[int]:
    """Remove every message of ``folder`` for good (emptying the trash), like
    :func:`expunge`, without the caller listing their UIDs first."""
    return await expunge_where(db, folder, true())


async def expunge_where(db: AsyncSession, folder: Folder, condition: ColumnElement[bool]) -> list[int]:
    """:func:`expunge` of the messages of ``folder`` that meet ``condition`` (UID EXPUNGE:
    those marked \\Deleted in its ranges), in one DELETE."""
    await lock_mailboxes(db, [folder.mailbox_id])
    rows = await _remove(db, folder, condition)
    await _credit(db, folder.mailbox_id, sum(row.size for row in rows))
    forget_blobs(db, folder.org_id, {row.blob_key for row in rows})
    return [row.uid for row in rows]


async def _remove(db: AsyncSession, folder: Folder, condition: ColumnElement[bool]) -> list[Row[int, int, str]]:
    """Delete the messages of ``folder`` that meet ``condition``; returns the (uid, size,
    blob_key) of the rows actually deleted, by UID, and bumps the folder's modseq when
    there were any. The quota is the caller's."""
    rows = sorted(
        (
            await db.execute(
                delete(Message)
                .where(Message.folder_id == folder.id, condition)
                .returning(Message.uid, Message.size, Message.blob_key)
                .execution_options(synchronize_session=False)
            )
        ).all(),
        key=lambda row: row.uid,
    )
    if rows:
        await _allocate(db, folder, 0)
        announce(db, folder, "expunged")
    return rows


def forget_blobs(db: AsyncSession, org_id: uuid.UUID, keys: Iterable[str]) -> None:
    """Have the blobs deleted later if no message refers to them any more. The delay
    lets a COPY that read a message just before its expunge commit first."""
    keys = sorted(set(keys))
    if keys:
        jobs.enqueue(db, GC_JOB, {"keys": keys}, org_id=org_id, run_at=utcnow() + BLOB_GC_DELAY)


async def collect_blobs(job: jobs.Claimed) -> None:
    assert job.org_id is not None
    keys = job.payload["keys"]
    async with org_session(job.org_id) as db:
        used = set((await db.execute(select(Message.blob_key).where(Message.blob_key.in_(keys)))).scalars())
        used |= set(
            (await db.execute(select(OutboundMessage.blob_key).where(OutboundMessage.blob_key.in_(keys)))).scalars()
        )
    store = blobs.get_store()
    for key in keys:
        if key not in used:
            await store.delete(key)


GC = jobs.JobSpec(GC_JOB, collect_blobs)
