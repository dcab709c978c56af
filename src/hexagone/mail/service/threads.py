"""The message lists the webmail shows and acts on: a folder as conversations (one row
per ``thread_id``, newest first, a page at a time), a search over a mailbox, one
conversation's messages, the messages a form names. Pages ask these questions here
instead of querying the tables themselves.

Only the columns a list shows are loaded: the extracted text, raw header and MIME
structure of fifty messages would weigh megabytes for nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, case, desc, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import load_only

from hexagone.mail.models import Folder, Message

PAGE_SIZE = 50
MAX_SEARCH_WORDS = 10
LIST_COLUMNS = load_only(
    Message.id,
    Message.org_id,
    Message.mailbox_id,
    Message.folder_id,
    Message.uid,
    Message.thread_id,
    Message.seen,
    Message.answered,
    Message.flagged,
    Message.draft,
    Message.deleted,
    Message.internal_date,
    Message.sent_date,
    Message.subject,
    Message.from_addr,
    Message.to_addrs,
    Message.preview,
    Message.has_attachments,
    Message.message_id,
    Message.size,
)


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


async def conversations(db: AsyncSession, folder: Folder, number: int) -> Page:
    grouped = (
        select(
            Message.thread_id,
            func.max(Message.internal_date).label("latest"),
            func.count().label("count"),
            func.sum(case((Message.seen.is_(False), 1), else_=0)).label("unseen"),
            func.max(case((Message.flagged.is_(True), 1), else_=0)).label("flagged"),
        )
        .where(Message.folder_id == folder.id, Message.deleted.is_(False))
        .group_by(Message.thread_id)
    )
    total = (await db.execute(select(func.count()).select_from(grouped.subquery()))).scalar_one()
    rows = (
        await db.execute(
            grouped.order_by(desc("latest"), Message.thread_id).limit(PAGE_SIZE).offset((number - 1) * PAGE_SIZE)
        )
    ).all()
    newest: dict[uuid.UUID, Message] = {}
    if rows:
        messages = await db.execute(
            select(Message)
            .options(LIST_COLUMNS)
            .where(
                Message.folder_id == folder.id,
                Message.deleted.is_(False),
                Message.thread_id.in_([r.thread_id for r in rows]),
            )
            .order_by(Message.internal_date.desc(), Message.uid.desc())
        )
        for message in messages.scalars():
            newest.setdefault(message.thread_id, message)
    return Page(
        [
            Conversation(newest[r.thread_id], r.count, int(r.unseen or 0), bool(r.flagged))
            for r in rows
            if r.thread_id in newest
        ],
        total,
        number,
    )


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
