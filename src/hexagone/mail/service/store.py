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
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from sqlalchemy import case, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from hexagone.core import blobs, jobs
from hexagone.core.db import org_session, utcnow
from hexagone.core.i18n import gettext as _
from hexagone.core.exceptions import Invalid, ServiceError
from hexagone.core.pubsub import events
from hexagone.mail import mime
from hexagone.mail.models import Folder, Mailbox, Message, OutboundMessage

SYSTEM_FLAGS = {"\\seen": "seen", "\\answered": "answered", "\\flagged": "flagged", "\\deleted": "deleted",
                "\\draft": "draft"}
FLAG_NAMES = {column: flag for flag, column in ((f"\\{c.capitalize()}", c) for c in SYSTEM_FLAGS.values())}
MAX_KEYWORDS = 50
MAX_KEYWORD_LENGTH = 100
BLOB_GC_DELAY = timedelta(hours=1)
GC_JOB = "mail.blob_gc"


class QuotaExceeded(ServiceError):
    """The mailbox is full (SMTP 552 5.2.2, IMAP [OVERQUOTA])."""


def change_channel(mailbox_id: uuid.UUID) -> str:
    return f"mail.mailbox.{mailbox_id}"


def announce(db: AsyncSession, folder: Folder, kind: str) -> None:
    events.publish_on_commit(db, change_channel(folder.mailbox_id), {"folder_id": folder.id, "kind": kind})


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
        elif not flag or len(flag) > MAX_KEYWORD_LENGTH or any(c in flag for c in '(){ %*"\\]') or not flag.isprintable():
            raise Invalid(_("Invalid keyword %(keyword)s.", keyword=repr(flag)))
        if flag not in result:
            result.append(flag)
    return result


def flags_of(message: Message) -> list[str]:
    return [flag for column, flag in FLAG_NAMES.items() if getattr(message, column)] + list(message.keywords or [])


def _apply(message: Message, flags: list[str], mode: str) -> bool:
    """Set, add or remove ``flags`` on ``message``; True when anything changed."""
    before = flags_of(message)
    wanted = set(flags)
    for column, flag in FLAG_NAMES.items():
        if mode == "set":
            setattr(message, column, flag in wanted)
        elif flag in wanted:
            setattr(message, column, mode == "add")
    keywords = [f for f in flags if not f.startswith("\\")]
    current = list(message.keywords or [])
    if mode == "set":
        current = keywords
    elif mode == "add":
        current += [k for k in keywords if k not in current]
    else:
        current = [k for k in current if k not in keywords]
    if len(current) > MAX_KEYWORDS:
        raise Invalid(_("Too many keywords on one message."))
    message.keywords = current
    return flags_of(message) != before


# --- adding ----------------------------------------------------------------------------


async def _allocate(db: AsyncSession, folder: Folder, count: int) -> tuple[int, int]:
    """Reserve ``count`` UIDs and one modseq in the folder, atomically; returns the first
    UID and the modseq. The UPDATE comes first so that, on SQLite, the transaction holds
    the write lock before it reads anything."""
    row = (await db.execute(
        update(Folder).where(Folder.id == folder.id)
        .values(uid_next=Folder.uid_next + count, highest_modseq=Folder.highest_modseq + 1)
        .returning(Folder.uid_next, Folder.highest_modseq)
        .execution_options(synchronize_session=False)
    )).one()
    folder.uid_next, folder.highest_modseq = row[0], row[1]
    return row[0] - count, row[1]


async def _charge(db: AsyncSession, mailbox_id: uuid.UUID, size: int) -> None:
    """Count ``size`` bytes against the mailbox's quota, or refuse if they do not fit."""
    result = await db.execute(
        update(Mailbox).where(Mailbox.id == mailbox_id, Mailbox.used_bytes + size <= Mailbox.quota_bytes)
        .values(used_bytes=Mailbox.used_bytes + size).execution_options(synchronize_session=False)
    )
    if result.rowcount == 0:
        raise QuotaExceeded(_("The mailbox is full."))


async def _thread_of(db: AsyncSession, mailbox_id: uuid.UUID, parsed: mime.Parsed) -> uuid.UUID:
    """The conversation of a message: that of the first message it answers found in the
    mailbox (one indexed lookup by Message-ID), else a new one. A reply that arrives
    before the message it answers starts its own (looking for it would scan every header)."""
    parents = [i for i in [parsed.in_reply_to, *reversed(parsed.references)] if i]
    if parents:
        found = (await db.execute(select(Message.thread_id).where(Message.mailbox_id == mailbox_id,
                                                                  Message.message_id.in_(parents)).limit(1))).scalar()
        if found is not None:
            return found
    return uuid.uuid4()


async def add_message(db: AsyncSession, folder: Folder, raw: bytes, ref: blobs.BlobRef, *,
                      parsed: mime.Parsed | None = None, flags: Sequence[str] = (),
                      internal_date: datetime | None = None) -> Message:
    """Add a message whose bytes are already stored (``ref``) to ``folder``, in the
    caller's transaction. Raises QuotaExceeded when the mailbox is full."""
    parsed = parsed or mime.parse(raw)
    flags = check_flags(flags)
    uid, modseq = await _allocate(db, folder, 1)
    await _charge(db, folder.mailbox_id, ref.size)
    message = Message(
        org_id=folder.org_id, mailbox_id=folder.mailbox_id, folder_id=folder.id, uid=uid, modseq=modseq,
        internal_date=internal_date or utcnow(), size=ref.size, sha256=ref.sha256, blob_key=ref.key,
        header=parsed.header, envelope=parsed.envelope, structure=parsed.structure, subject=parsed.subject,
        from_addr=parsed.from_addr, to_addrs=parsed.to_addrs, cc_addrs=parsed.cc_addrs, bcc_addrs=parsed.bcc_addrs,
        sent_date=parsed.sent_date, message_id=parsed.message_id, preview=parsed.preview, text=parsed.text,
        has_attachments=parsed.has_attachments, keywords=[],
        thread_id=await _thread_of(db, folder.mailbox_id, parsed),
    )
    _apply(message, flags, "set")
    db.add(message)
    await db.flush()
    announce(db, folder, "added")
    return message


async def append(db: AsyncSession, folder: Folder, raw: bytes, *, flags: Sequence[str] = (),
                 internal_date: datetime | None = None) -> Message:
    """IMAP APPEND, a saved draft, a sent copy, an imported message: store then add."""
    ref = await put_blob(folder.org_id, raw)
    return await add_message(db, folder, raw, ref, flags=flags, internal_date=internal_date)


async def deliver(org_id: uuid.UUID, folder_ids: Sequence[uuid.UUID], raw: bytes) -> list[Message]:
    """Deliver one message to several folders (the inboxes of an SMTP transaction's local
    recipients in one organisation): one blob, one transaction, all or nothing."""
    ref = await put_blob(org_id, raw)
    parsed = mime.parse(raw)
    async with org_session(org_id, write=True) as db:
        messages = []
        for folder_id in folder_ids:
            folder = await db.get(Folder, folder_id)
            if folder is None:
                raise Invalid(_("The folder is gone."))
            messages.append(await add_message(db, folder, raw, ref, parsed=parsed))
        await db.commit()
    return messages


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
        .where(Message.folder_id.in_(list(folder_ids))).group_by(Message.folder_id)
    )
    return {folder_id: (total, int(unseen or 0)) for folder_id, total, unseen in rows}


# --- changing --------------------------------------------------------------------------


async def store_flags(db: AsyncSession, folder: Folder, messages: Sequence[Message], flags: Sequence[str], mode: str,
                      *, unchanged_since: int | None = None) -> tuple[list[Message], list[Message]]:
    """IMAP STORE: returns (changed, refused by UNCHANGEDSINCE)."""
    if mode not in ("set", "add", "remove"):
        raise Invalid(_("Unknown flag mode."))
    flags = check_flags(flags)
    refused = [m for m in messages if unchanged_since is not None and m.modseq > unchanged_since]
    candidates = [m for m in messages if m not in refused]
    changed = [m for m in candidates if _apply(m, flags, mode)]
    if changed:
        _, modseq = await _allocate(db, folder, 0)
        for message in changed:
            message.modseq = modseq
        await db.flush()
        announce(db, folder, "flags")
    return changed, refused


async def copy(db: AsyncSession, messages: Sequence[Message], target: Folder) -> list[tuple[Message, Message]]:
    """IMAP COPY: new rows in ``target`` sharing the blobs; (source, copy) pairs."""
    if not messages:
        return []
    for source in messages:
        await _charge(db, target.mailbox_id, source.size)
    first_uid, modseq = await _allocate(db, target, len(messages))
    pairs = []
    for offset, source in enumerate(messages):
        copied = Message(**{c.key: getattr(source, c.key) for c in Message.__table__.columns
                            if c.key not in ("id", "folder_id", "mailbox_id", "uid", "modseq")})
        copied.id = uuid.uuid4()
        copied.folder_id, copied.mailbox_id, copied.uid, copied.modseq = target.id, target.mailbox_id, first_uid + offset, modseq
        if copied.mailbox_id != source.mailbox_id:
            copied.thread_id = uuid.uuid4()
        db.add(copied)
        pairs.append((source, copied))
    await db.flush()
    announce(db, target, "added")
    return pairs


async def move(db: AsyncSession, folder: Folder, messages: Sequence[Message], target: Folder) -> list[tuple[Message, Message]]:
    """IMAP MOVE: copy then expunge the sources, in one transaction."""
    pairs = await copy(db, messages, target)
    await expunge(db, folder, [m.uid for m in messages])
    return pairs


async def move_all(db: AsyncSession, folder: Folder, target: Folder) -> None:
    await move(db, folder, await messages_by_uid(db, folder), target)


async def expunge(db: AsyncSession, folder: Folder, uids: Sequence[int] | None = None) -> list[int]:
    """Remove messages for good: those with ``uids``, else all marked \\Deleted.
    Returns the UIDs removed, in order. Their blobs are collected later if unused."""
    condition = Message.uid.in_(list(uids)) if uids is not None else Message.deleted.is_(True)
    rows = (await db.execute(select(Message.uid, Message.size, Message.blob_key)
                             .where(Message.folder_id == folder.id, condition).order_by(Message.uid))).all()
    if not rows:
        return []
    await db.execute(delete(Message).where(Message.folder_id == folder.id, Message.uid.in_([r.uid for r in rows]))
                     .execution_options(synchronize_session=False))
    await db.execute(update(Mailbox).where(Mailbox.id == folder.mailbox_id)
                     .values(used_bytes=Mailbox.used_bytes - sum(r.size for r in rows))
                     .execution_options(synchronize_session=False))
    await _allocate(db, folder, 0)
    forget_blobs(db, folder.org_id, {r.blob_key for r in rows})
    announce(db, folder, "expunged")
    return [r.uid for r in rows]


def forget_blobs(db: AsyncSession, org_id: uuid.UUID, keys: Iterable[str]) -> None:
    """Have the blobs deleted later if no message refers to them any more. The delay
    lets a COPY that read a message just before its expunge commit first."""
    keys = sorted(set(keys))
    if keys:
        jobs.enqueue(db, GC_JOB, {"keys": keys}, org_id=org_id, run_at=utcnow() + BLOB_GC_DELAY)


@jobs.handler(GC_JOB)
async def collect_blobs(job: jobs.Claimed) -> None:
    assert job.org_id is not None
    keys = job.payload["keys"]
    async with org_session(job.org_id) as db:
        used = set((await db.execute(select(Message.blob_key).where(Message.blob_key.in_(keys)))).scalars())
        used |= set((await db.execute(select(OutboundMessage.blob_key).where(OutboundMessage.blob_key.in_(keys)))).scalars())
    store = blobs.get_store()
    for key in keys:
        if key not in used:
            await store.delete(key)

