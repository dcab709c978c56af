"""The message lists the webmail shows and acts on: a folder as conversations (one row
per ``thread_id``, newest first, a page at a time), a search over a mailbox, one
conversation's messages, the messages a form names, and the folders beside them with
their counts. Pages ask these questions here instead of querying the tables themselves.

Only the columns a list shows are loaded: the extracted text, raw header and MIME
structure of fifty messages would weigh megabytes for nothing.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, bindparam, case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased, load_only

from hexagone.mail.models import Folder, Message
from hexagone.mail.service.mailboxes import INBOX

PAGE_SIZE = 50
MAX_SEARCH_WORDS = 10
LIST_COLUMN_NAMES = (
    "id",
    "org_id",
    "mailbox_id",
    "folder_id",
    "uid",
    "thread_id",
    "seen",
    "answered",
    "flagged",
    "draft",
    "deleted",
    "internal_date",
    "sent_date",
    "subject",
    "from_addr",
    "to_addrs",
    "preview",
    "has_attachments",
    "message_id",
    "size",
)
LIST_COLUMNS = load_only(*(getattr(Message, name) for name in LIST_COLUMN_NAMES))


@dataclass(frozen=True)
class Conversation:
    """A row of a folder's list: the newest message of a thread in that folder."""

    latest: Message
    count: int
    unseen: int
    flagged: bool


@dataclass(frozen=True)
class Page:
    rows: list[Conversation]
    total: int  # conversations (or messages, for a search) in all pages
    number: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // PAGE_SIZE))


@functools.cache
def _conversations_page() -> Select[Any]:
    """A page of a folder's conversations in one statement (built once: building it costs
    more than running it). Window functions rank each thread's messages, newest first,
    and count them; a row is the newest message of a thread with its thread's counts, and
    ``count(*) OVER ()`` says how many conversations all the pages hold. Parameters:
    ``folder_id`` and ``offset``."""
    thread = Message.thread_id
    newest_first = (Message.internal_date.desc(), Message.uid.desc())
    ranked = (
        select(
            *(getattr(Message, name) for name in LIST_COLUMN_NAMES),
            func.row_number().over(partition_by=thread, order_by=newest_first).label("thread_rank"),
            func.count().over(partition_by=thread).label("thread_count"),
            func.sum(case((Message.seen.is_(False), 1), else_=0)).over(partition_by=thread).label("thread_unseen"),
            func.max(case((Message.flagged.is_(True), 1), else_=0)).over(partition_by=thread).label("thread_flagged"),
        )
        .where(Message.folder_id == bindparam("folder_id"), Message.deleted.is_(False))
        .subquery()
    )
    latest = aliased(Message, ranked)
    return (
        select(
            latest,
            ranked.c.thread_count,
            ranked.c.thread_unseen,
            ranked.c.thread_flagged,
            func.count().over().label("total"),
        )
        .options(load_only(*(getattr(latest, name) for name in LIST_COLUMN_NAMES)))
        .where(ranked.c.thread_rank == 1)
        .order_by(ranked.c.internal_date.desc(), ranked.c.thread_id)
        .limit(PAGE_SIZE)
        .offset(bindparam("offset"))
    )


async def conversations(db: AsyncSession, folder: Folder, number: int) -> Page:
    rows = (await db.execute(_conversations_page(), {"folder_id": folder.id, "offset": (number - 1) * PAGE_SIZE})).all()
    if rows:
        total = rows[0].total
    elif number > 1:  # past the last page: no row to carry the total
        total = (
            await db.execute(
                select(func.count(func.distinct(Message.thread_id))).where(
                    Message.folder_id == folder.id, Message.deleted.is_(False)
                )
            )
        ).scalar_one()
    else:
        total = 0
    return Page(
        [Conversation(r[0], r.thread_count, int(r.thread_unseen or 0), bool(r.thread_flagged)) for r in rows],
        total,
        number,
    )


@dataclass(frozen=True)
class FolderCounts:
    folder: Folder
    total: int  # messages, those marked deleted included (as IMAP counts them)
    unseen: int


async def folders_with_counts(db: AsyncSession, mailbox_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[FolderCounts]]:
    """Every folder of these mailboxes with its message and unread counts, in one
    statement; each mailbox's folders INBOX first, then by name."""
    rows = await db.execute(
        select(Folder, func.count(Message.id), func.sum(case((Message.seen.is_(False), 1), else_=0)))
        .outerjoin(Message, Message.folder_id == Folder.id)
        .where(Folder.mailbox_id.in_(mailbox_ids))
        .group_by(Folder.id)
    )
    found: dict[uuid.UUID, list[FolderCounts]] = {mailbox_id: [] for mailbox_id in mailbox_ids}
    for folder, total, unseen in rows:
        found[folder.mailbox_id].append(FolderCounts(folder, total, int(unseen or 0)))
    for folders in found.values():
        folders.sort(key=lambda f: (f.folder.name != INBOX, f.folder.name.lower()))
    return found


def _like(word: str) -> str:
    return "%" + word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def search_query(mailbox_id: uuid.UUID, words: list[str], folder_id: uuid.UUID | None) -> Select[Message]:
    """Messages where every word appears in the subject, an address or the text."""
    query = select(Message).where(Message.mailbox_id == mailbox_id, Message.deleted.is_(False))
    if folder_id is not None:
        query = query.where(Message.folder_id == folder_id)
    for word in words[:MAX_SEARCH_WORDS]:
        pattern = _like(word)
        query = query.where(
            or_(
                *(
                    column.ilike(pattern, escape="\\")
                    for column in (Message.subject, Message.from_addr, Message.to_addrs, Message.cc_addrs, Message.text)
                )
            )
        )
    return query


async def search(db: AsyncSession, mailbox_id: uuid.UUID, text: str, folder_id: uuid.UUID | None, number: int) -> Page:
    query = search_query(mailbox_id, text.split(), folder_id)
    total = (await db.execute(select(func.count()).select_from(query.subquery()))).scalar_one()
    found = await db.execute(
        query.options(LIST_COLUMNS)
        .order_by(Message.internal_date.desc(), Message.id)
        .limit(PAGE_SIZE)
        .offset((number - 1) * PAGE_SIZE)
    )
    return Page([Conversation(m, 1, 0 if m.seen else 1, m.flagged) for m in found.scalars()], total, number)


async def neighbours(db: AsyncSession, folder: Folder, message: Message) -> tuple[Message | None, Message | None]:
    """The newest message of the conversations listed just above (newer) and just below
    (older) ``message``'s in its folder: where k and j lead from the reading page."""
    visible = (Message.folder_id == folder.id, Message.deleted.is_(False))
    grouped = (
        select(Message.thread_id, func.max(Message.internal_date).label("latest"))
        .where(*visible)
        .group_by(Message.thread_id)
        .subquery()
    )
    mine = (
        await db.execute(
            select(func.max(Message.internal_date)).where(*visible, Message.thread_id == message.thread_id)
        )
    ).scalar()
    if mine is None:
        return None, None
    found = []
    for condition, order in (
        (grouped.c.latest > mine, grouped.c.latest.asc()),
        (grouped.c.latest < mine, grouped.c.latest.desc()),
    ):
        thread = (await db.execute(select(grouped.c.thread_id).where(condition).order_by(order).limit(1))).scalar()
        found.append(
            None
            if thread is None
            else (
                await db.execute(
                    select(Message)
                    .options(LIST_COLUMNS)
                    .where(*visible, Message.thread_id == thread)
                    .order_by(Message.internal_date.desc(), Message.uid.desc())
                    .limit(1)
                )
            ).scalar()
        )
    return found[0], found[1]


async def thread_messages(db: AsyncSession, message: Message) -> list[Message]:
    """The conversation ``message`` belongs to, in its mailbox, oldest first."""
    found = await db.execute(
        select(Message)
        .options(LIST_COLUMNS)
        .where(Message.mailbox_id == message.mailbox_id, Message.thread_id == message.thread_id)
        .order_by(Message.internal_date, Message.uid)
    )
    return list(found.scalars())


async def with_conversations(db: AsyncSession, messages: list[Message]) -> list[Message]:
    """``messages`` and the rest of their conversations in their folders: what an action
    on a row of a folder's list acts on."""
    keys = {(m.folder_id, m.thread_id) for m in messages}
    if not keys:
        return []
    found = await db.execute(
        select(Message)
        .where(Message.folder_id.in_({f for f, _ in keys}), Message.thread_id.in_({t for _, t in keys}))
        .order_by(Message.uid)
    )
    return [m for m in found.scalars() if (m.folder_id, m.thread_id) in keys]


async def folder_of(db: AsyncSession, message: Message) -> Folder:
    """The folder ``message`` is in (it exists while the message does)."""
    folder = await db.get(Folder, message.folder_id)
    assert folder is not None, "a message's folder exists while the message does"
    return folder


async def in_mailbox(db: AsyncSession, mailbox_id: uuid.UUID, ids: Iterable[uuid.UUID]) -> list[Message]:
    """The messages of ``mailbox_id`` among ``ids`` (the others are left out: the caller
    compares the counts to refuse an id it may not act on)."""
    found = await db.execute(select(Message).where(Message.id.in_(list(ids)), Message.mailbox_id == mailbox_id))
    return list(found.scalars())


async def by_message_id(db: AsyncSession, mailbox_ids: list[uuid.UUID], message_id: str) -> list[Message]:
    """The copies of the message with this Message-ID header in these mailboxes (the one a
    reply answers, wherever it was filed)."""
    found = await db.execute(
        select(Message).where(Message.mailbox_id.in_(mailbox_ids), Message.message_id == message_id)
    )
    return list(found.scalars())


async def stored(db: AsyncSession, message_id: uuid.UUID) -> Message | None:
    """The message with this id if it is still stored (a draft replaced meanwhile is not)."""
    return await db.get(Message, message_id)


async def newest_unseen(db: AsyncSession, folder_id: uuid.UUID) -> datetime | None:
    """When the newest unread message of the folder arrived (None when all are read)."""
    return (
        await db.execute(
            select(func.max(Message.internal_date)).where(Message.folder_id == folder_id, Message.seen.is_(False))
        )
    ).scalar()
