"""Reading mail for one user, with the access check: a folder or a message they may open
(their own mailbox, or one granted to them), a folder's messages a page at a time, the
beginning of a stored message, and a search by subject or sender across every mailbox
they may read. The JSON API, the webmail and unified search use these; the webmail's
lists (conversations) are in :mod:`hexagone.mail.service.threads`. What a user may do
with a mailbox is the core policy's answer (mail's rule: :mod:`hexagone.mail.policy`).

Anything the user may not open is NotFound, exactly like an id that does not exist, so
a guess tells nothing about what exists in their organisation or another.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import load_only

from hexagone.core import blobs, policy
from hexagone.core.auth import Principal
from hexagone.core.exceptions import NotFound
from hexagone.core.i18n import gettext as _
from hexagone.identity.service import Person
from hexagone.mail.models import Folder, Mailbox, Message
from hexagone.mail.service import mailboxes
from hexagone.mail.service.mailboxes import Access

MAX_PAGE_SIZE = 200
SEARCH_COLUMNS = load_only(
    Message.id, Message.org_id, Message.mailbox_id, Message.subject, Message.from_addr, Message.internal_date
)


def require_write(principal: Principal, access: Access) -> None:
    """Forbidden unless the core policy lets ``principal`` change the mailbox (a
    read-only grant does not)."""
    policy.require(principal, access, "write", _("You may read this mailbox but not change it."))


async def mailbox_for(
    db: AsyncSession, principal: Principal, user: Person, mailbox_id: uuid.UUID, *, write: bool = False
) -> Access:
    """``user``'s access to a mailbox they may open (NotFound for a guest, who has none),
    judged by the core policy for ``principal`` (the same user, as signed in); ``write``
    refuses a read-only grant."""
    if user.is_guest:
        raise NotFound(_("No such mailbox."))
    access = await mailboxes.access_to(db, user, mailbox_id)
    policy.require(principal, access, "view", _("No such mailbox."))
    if write:
        require_write(principal, access)
    return access


async def folder_for(
    db: AsyncSession, principal: Principal, user: Person, folder_id: uuid.UUID, *, write: bool = False
) -> tuple[Folder, Access]:
    """A folder ``user`` may open, with their access; ``write`` refuses a read-only grant
    (Forbidden: the folder is theirs to see, so saying so leaks nothing)."""
    folder = await db.get(Folder, folder_id) if not user.is_guest else None
    if folder is None:  # a guest has no mailbox: nothing to open, and nothing to tell
        raise NotFound(_("This folder does not exist, or you cannot see it."))
    return folder, await mailbox_for(db, principal, user, folder.mailbox_id, write=write)


async def message_for(
    db: AsyncSession, principal: Principal, user: Person, message_id: uuid.UUID, *, write: bool = False
) -> tuple[Message, Folder, Access]:
    message = await db.get(Message, message_id)
    if message is None:
        raise NotFound(_("This message does not exist, or you cannot see it."))
    folder, access = await folder_for(db, principal, user, message.folder_id, write=write)
    return message, folder, access


async def page(
    db: AsyncSession, folder: Folder, *, after: tuple[datetime, int] | None, size: int
) -> tuple[list[Message], bool]:
    """Up to ``size`` messages of ``folder``, newest first (by arrival date, then UID), the
    ones marked deleted left out as in the webmail; ``after`` is the (date, UID) of the
    last message of the previous page. A keyset, not an offset: the page after a given
    message stays the same however many arrive meanwhile. Also says whether more follow."""
    size = max(1, min(size, MAX_PAGE_SIZE))
    query = select(Message).where(Message.folder_id == folder.id, Message.deleted.is_(False))
    if after is not None:
        date, uid = after
        query = query.where(or_(Message.internal_date < date, and_(Message.internal_date == date, Message.uid < uid)))
    rows = list(
        (await db.execute(query.order_by(Message.internal_date.desc(), Message.uid.desc()).limit(size + 1))).scalars()
    )
    return rows[:size], len(rows) > size


async def beginning(message: Message, size: int) -> bytes:
    """The first ``size`` bytes of the stored message: all a body shown needs, without
    reading the attachments that follow it."""
    chunks: list[bytes] = []
    read = 0
    stream = await blobs.get_store().get(message.blob_key)
    try:
        async for chunk in stream:
            chunks.append(chunk)
            read += len(chunk)
            if read >= size:
                break
    finally:
        await stream.aclose()  # type: ignore[attr-defined]  # every backend streams with a generator
    return b"".join(chunks)


async def readable_mailboxes(db: AsyncSession, principal: Principal) -> dict[uuid.UUID, Mailbox]:
    """The mailboxes the core policy lets ``principal`` view, by id: their own (if it
    exists yet) and those granted to them; none for a guest. Creates nothing: a search
    must not write."""
    accesses = await mailboxes.existing_accesses(db, principal.user_id)
    return {a.mailbox.id: a.mailbox for a in accesses if policy.abilities(principal, a).get("view")}


def _like(text: str) -> str:
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


async def find(db: AsyncSession, principal: Principal, text: str, limit: int) -> list[tuple[Message, Mailbox]]:
    """Messages whose subject or sender contains ``text`` (case-insensitive, wildcards
    taken literally), newest first, in the mailboxes ``principal`` may read; at most
    ``limit``, loading only what a result shows."""
    readable = await readable_mailboxes(db, principal)
    if not readable or not text.strip() or limit <= 0:
        return []
    pattern = _like(text.strip())
    found = await db.execute(
        select(Message)
        .options(SEARCH_COLUMNS)
        .where(
            Message.mailbox_id.in_(list(readable)),
            Message.deleted.is_(False),
            or_(Message.subject.ilike(pattern, escape="\\"), Message.from_addr.ilike(pattern, escape="\\")),
        )
        .order_by(Message.internal_date.desc(), Message.id)
        .limit(limit)
    )
    return [(message, readable[message.mailbox_id]) for message in found.scalars()]
