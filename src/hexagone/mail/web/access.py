"""The one way the webmail reaches a mailbox, a folder or a message: through the caller's
own access (:func:`hexagone.mail.service.mailboxes.access_to`), judged by the core policy
(mail's rule: :mod:`hexagone.mail.policy`) as the JSON API judges it.

Each page opens its session with :func:`caller`, then loads what the URL names with
:func:`folder_for` or :func:`message_for`. Anything the caller may not open — another
user's mailbox without a grant, another organisation's message (the org-scoped session
does not even find it) — is NotFound, exactly like an id that does not exist.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request

from hexagone.core import policy
from hexagone.core.auth import Principal
from hexagone.core.db import org_session
from hexagone.core.exceptions import NotFound
from hexagone.core.i18n import gettext as _
from hexagone.core.web import principal_of
from hexagone.identity.service import Person
from hexagone.mail import mime
from hexagone.mail.models import Folder, Mailbox, Message
from hexagone.mail.service import mailboxes, reading, store
from hexagone.mail.service.mailboxes import Access


@dataclass
class Caller:
    """The signed-in user of a webmail request, with the session the request runs in."""

    principal: Principal
    user: Person
    db: AsyncSession

    async def own_mailbox(self) -> Mailbox:
        return await mailboxes.user_mailbox(self.db, self.user)


@asynccontextmanager
async def caller(request: Request, *, write: bool = False) -> AsyncIterator[Caller]:
    """The request's session; ``write`` for one that reads then writes (on SQLite it
    takes the write lock at once rather than fail when a delivery commits meanwhile)."""
    principal = principal_of(request)
    assert principal is not None, "the route is behind login_required"
    async with caller_for(principal, write=write) as c:
        yield c


@asynccontextmanager
async def caller_for(principal: Principal, *, write: bool = False) -> AsyncIterator[Caller]:
    """:func:`caller` for a principal the shell hands over (the navigation's badge)."""
    async with org_session(principal.org_id, write=write) as db:
        yield Caller(principal, Person.signed_in(principal), db)


async def mailbox_for(c: Caller, mailbox_id: uuid.UUID, *, write: bool = False) -> Access:
    return await reading.mailbox_for(c.db, c.principal, c.user, mailbox_id, write=write)


async def folder_for(c: Caller, folder_id: uuid.UUID, *, write: bool = False) -> tuple[Folder, Access]:
    return await reading.folder_for(c.db, c.principal, c.user, folder_id, write=write)


async def message_for(c: Caller, message_id: uuid.UUID, *, write: bool = False) -> tuple[Message, Folder, Access]:
    return await reading.message_for(c.db, c.principal, c.user, message_id, write=write)


async def attachment_for(c: Caller, message_id: uuid.UUID, index: int) -> tuple[Message, dict[str, Any], bytes]:
    """The message, its leaf part number ``index`` (an attachment, the text, an inline
    image) and the message's bytes; NotFound for a part the message does not have."""
    message, _folder, _access = await message_for(c, message_id)
    leaves = mime.leaves(message.structure)
    if index >= len(leaves) or "parts" in leaves[index]:
        raise NotFound(_("This attachment does not exist."))
    return message, leaves[index], await store.read(message)


def abilities(c: Caller, access: Access) -> dict[str, bool]:
    """What the caller may do with the mailbox, as the core policy answers the API: the
    pages show only the controls it allows."""
    return policy.abilities(c.principal, access)


async def special_folder(db: AsyncSession, mailbox: Mailbox, special: str, name: str) -> Folder:
    """The mailbox's folder for ``special`` (\\Drafts, \\Sent, \\Trash), made again under
    ``name`` if a mail client deleted it."""
    folder = await mailboxes.folder_by_special_use(db, mailbox.id, special)
    if folder is None:
        folder = await mailboxes.folder_by_name(db, mailbox.id, name)
        if folder is None:
            folder = await mailboxes.create_folder(db, mailbox, name, special_use=special)
    return folder


def parse_uuid(value: object) -> uuid.UUID | None:
    """A form's id field as a UUID, or None when it is empty or not one."""
    try:
        return uuid.UUID(str(value)) if value else None
    except ValueError:
        return None
