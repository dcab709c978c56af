"""What a reader does to messages: mark read or unread, flag, move, delete to the trash
(delete for good from the trash; emptying it is :mod:`deleting`). One route serves the
list (several conversations at once) and the reading page (one message), so both follow
one rule.
"""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from hexagone.core.exceptions import Invalid, NotFound
from hexagone.core.forms import field
from hexagone.core.i18n import gettext as _
from hexagone.core.pages import done
from hexagone.core.web import login_required
from hexagone.mail.models import Folder, Message, SpecialUse
from hexagone.mail.service import mailboxes, store, threads
from hexagone.mail.web.access import caller, folder_for, mailbox_for, parse_uuid, special_folder

MAX_SELECTED = 500
FLAG_ACTIONS = {
    "read": (["\\Seen"], "add"),
    "unread": (["\\Seen"], "remove"),
    "flag": (["\\Flagged"], "add"),
    "unflag": (["\\Flagged"], "remove"),
}
NOTICES = {"read": "read", "unread": "unread", "flag": "flagged", "unflag": "unflagged", "move": "moved"}


def _by_folder(messages: list[Message]) -> dict[uuid.UUID, list[Message]]:
    grouped: dict[uuid.UUID, list[Message]] = {}
    for message in messages:
        grouped.setdefault(message.folder_id, []).append(message)
    return grouped


async def apply(
    db: AsyncSession, mailbox: mailboxes.Mailbox, messages: list[Message], action: str, target: Folder | None
) -> str:
    """Do ``action`` to ``messages`` (all in ``mailbox``); returns the notice to show."""
    if action in FLAG_ACTIONS:
        flags, mode = FLAG_ACTIONS[action]
        for group in _by_folder(messages).values():
            await store.store_flags(db, await threads.folder_of(db, group[0]), group, flags, mode)
        return NOTICES[action]
    if action == "move":
        if target is None or target.mailbox_id != mailbox.id:
            raise NotFound(_("This folder does not exist, or you cannot see it."))
        for folder_id, group in _by_folder(messages).items():
            if folder_id != target.id:
                await store.move(db, await threads.folder_of(db, group[0]), group, target)
        return "move"
    if action == "delete":
        trash = await special_folder(db, mailbox, SpecialUse.TRASH, "Trash")
        forever = False
        for folder_id, group in _by_folder(messages).items():
            if folder_id == trash.id:
                await store.expunge(db, trash, [m.uid for m in group])
                forever = True
            else:
                await store.move(db, await threads.folder_of(db, group[0]), group, trash)
        return "deleted" if forever else "trashed"
    raise Invalid(_("Unknown action."))


@login_required
async def act(request: Request) -> Response:
    """Fields: ``message`` (one or more ids), ``conversations`` ("1": each with the rest of
    its conversation in its folder), ``action``, ``target`` (a folder id, to move), ``next``."""
    form = await request.form()
    ids = [i for i in (parse_uuid(v) for v in form.getlist("message")[:MAX_SELECTED]) if i is not None]
    action = field(form, "action", 20)
    async with caller(request, write=True) as c:
        access = await mailbox_for(c, request.path_params["mailbox_id"], write=True)
        back = field(form, "next", 1000) or "/mail/"
        if not ids:
            return done(back, "none", form)
        found = await threads.in_mailbox(c.db, access.mailbox.id, ids)
        if len(found) != len(set(ids)):
            raise NotFound(_("This message does not exist, or you cannot see it."))
        messages = (
            await threads.with_conversations(c.db, list(found))
            if field(form, "conversations", 1) == "1"
            else list(found)
        )
        target_id = parse_uuid(field(form, "target", 64))
        target = (await folder_for(c, target_id))[0] if target_id else None
        notice = await apply(c.db, access.mailbox, messages, action, target)
        await c.db.commit()
    return done(back, notice, form)


ROUTES = [
    Route("/mailboxes/{mailbox_id:uuid}/actions", act, methods=["POST"]),
]
