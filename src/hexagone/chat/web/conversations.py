"""The chat's conversation pages: the list (``/chat/``), one conversation with its
latest messages, older pages and a thread beside it (``/chat/<id>``), public channels
to browse and join, a new channel, a direct conversation, and a conversation's members
and settings. Every page works without JavaScript; ``frontend/chat/chat.js`` makes it
live over the WebSocket."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from hexagone.chat import service
from hexagone.chat.service.limits import posting_allowed
from hexagone.chat.web.common import (
    ALL_CONTROLS,
    QUICK_REACTIONS,
    blank_message,
    channel_url,
    ensure_space_channels,
    message_controls,
    render,
)
from hexagone.core import pages
from hexagone.core.auth import Principal
from hexagone.core.db import org_session
from hexagone.core.exceptions import Invalid, NotFound, ServiceError
from hexagone.core.forms import field, kept_values, parse_uuid
from hexagone.core.i18n import gettext as _
from hexagone.core.web import login_required
from hexagone.drive.service import has_own_drive
from hexagone.identity.service import people_by_ids, people_matching, person_by_email

PEOPLE_SUGGESTED = 8
MAX_SEQ = 2**62


def _seq(raw: str | None) -> int | None:
    if raw is None or raw == "":
        return None
    if not raw.isdigit() or int(raw) > MAX_SEQ:
        raise Invalid(_("A message number is a whole number."))
    return int(raw)


def _channel_id(request: Request) -> uuid.UUID:
    return parse_uuid(str(request.path_params["channel_id"]))


@login_required
async def home(request: Request) -> Response:
    principal = pages.me(request)
    await ensure_space_channels(principal)
    async with org_session(principal.org_id) as db:
        return await render(request, "chat/home.html", db, {})


async def _mark_read(principal: Principal, info: service.ChannelInfo) -> None:
    """Viewing the latest messages reads them (a write only when the marker is behind)."""
    if info.last_read_seq >= info.last_seq:
        return
    async with org_session(principal.org_id, write=True) as db:
        await service.mark_read(db, principal, info.id, info.last_seq)
        await db.commit()


async def _authors(db: AsyncSession, ids: set[uuid.UUID]) -> dict[str, str]:
    people = await people_by_ids(db, ids)
    return {str(k): p.display_name or p.email for k, p in people.items()}


async def channel_page(request: Request, error: ServiceError | None = None) -> Response:
    principal = pages.me(request)
    channel_id = _channel_id(request)
    before = _seq(request.query_params.get("before"))
    raw_thread = request.query_params.get("thread", "")
    thread_id = parse_uuid(raw_thread) if raw_thread else None
    raw_message = request.query_params.get("message", "")
    async with org_session(principal.org_id) as db:
        info = await service.info(db, principal, channel_id)
        if raw_message and thread_id is None and before is None:
            # a notification's link: the message's page, or the thread it answers
            wanted = await service.one(db, principal, parse_uuid(raw_message))
            if wanted.channel_id != channel_id:
                raise NotFound(_("No such message."))
            thread_id = wanted.thread_id
            if wanted.thread_id is None and wanted.seq < info.last_seq:
                recent = await service.history(db, principal, channel_id, limit=service.PAGE)
                before = wanted.seq + 1 if recent and wanted.seq < recent[0].seq else None
    if before is None:
        await _mark_read(principal, info)
    async with org_session(principal.org_id) as db:
        info = await service.info(db, principal, channel_id)
        found = await service.history(db, principal, channel_id, before=before, limit=service.PAGE + 1)
        older = len(found) > service.PAGE
        shown = found[1:] if older else found
        root: service.MessageInfo | None = None
        replies: list[service.MessageInfo] = []
        if thread_id is not None:
            root, replies = await service.thread(db, principal, thread_id)
            if root.channel_id != channel_id:
                raise NotFound(_("No such thread."))
        member_ids = await service.members(db, principal, channel_id)
        members = await _authors(db, set(member_ids))
        pinned = await service.pinned(db, principal, channel_id)
        newer = before is not None and bool(shown) and shown[-1].seq < info.last_seq
        typed = await kept_values(request, error, "text")
        context: dict[str, Any] = {
            "channel": info,
            "messages": shown,
            "older_than": shown[0].seq if older and shown else None,
            "newer": newer,
            "thread_root": root,
            "replies": replies,
            "members": sorted(members.items(), key=lambda m: m[1].casefold()),
            "pinned": pinned,
            "controls": lambda m: message_controls(principal, info, m),
            "blank": blank_message(channel_id),
            "all_controls": ALL_CONTROLS,
            "typed": typed["text"],
            "typed_in_thread": error is not None and request.method == "POST" and thread_id is not None,
        }
        return await render(request, "chat/channel.html", db, context, error, current=channel_id)


@login_required
async def channel(request: Request) -> Response:
    return await channel_page(request)


@login_required
async def older(request: Request) -> Response:
    """Older messages for the top of the list (``?before=<seq>``), as list items with the
    next loader: what the script asks when the reader scrolls up."""
    principal = pages.me(request)
    channel_id = _channel_id(request)
    before = _seq(request.query_params.get("before"))
    if before is None:
        raise Invalid(_("A message number is a whole number."))
    async with org_session(principal.org_id) as db:
        info = await service.info(db, principal, channel_id)
        found = await service.history(db, principal, channel_id, before=before, limit=service.PAGE + 1)
    more = len(found) > service.PAGE
    shown = found[1:] if more else found
    context = {
        "channel": info,
        "messages": shown,
        "older_than": shown[0].seq if more and shown else None,
        "controls": lambda m: message_controls(principal, info, m),
        "quick_reactions": QUICK_REACTIONS,
        "to_drive": has_own_drive(principal),
    }
    return pages.render(request, "chat/_older.html", context)


async def post_message(
    db: AsyncSession,
    principal: Principal,
    form: FormData,
    params: Mapping[str, Any],
    *,
    files: Sequence[uuid.UUID] = (),
) -> Response:
    """The composer without JavaScript: the message is posted with the ``files`` its form
    uploaded (:mod:`.files`), the page shown again at it."""
    channel_id = parse_uuid(str(params["channel_id"]))
    raw_thread = field(form, "thread", 40)
    thread_id = parse_uuid(raw_thread) if raw_thread else None
    client_id = field(form, "client_id", 64) or None
    posting_allowed(principal)
    posted = await service.post(
        db,
        principal,
        channel_id,
        field(form, "text", service.MAX_TEXT + 100),
        thread_id=thread_id,
        client_id=client_id,
        files=files,
    )
    where = channel_url(channel_id) + (f"?thread={thread_id}" if thread_id else "")
    return RedirectResponse(f"{where}#m-{posted.id}", status_code=303)


async def post_page(request: Request, error: ServiceError | None = None) -> Response:
    return await channel_page(request, error)


# Browsing and making conversations.


@login_required
async def browse(request: Request) -> Response:
    principal = pages.me(request)
    async with org_session(principal.org_id) as db:
        public = await service.public_channels(db, principal)
        return await render(request, "chat/browse.html", db, {"public": public})


async def join(db: AsyncSession, principal: Principal, _form: FormData, params: Mapping[str, Any]) -> Response:
    channel_id = parse_uuid(str(params["channel_id"]))
    await service.join(db, principal, channel_id)
    return pages.done(channel_url(channel_id), "chat_joined")


async def leave(db: AsyncSession, principal: Principal, _form: FormData, params: Mapping[str, Any]) -> Response:
    await service.leave(db, principal, parse_uuid(str(params["channel_id"])))
    return pages.done("/chat/", "chat_left")


async def browse_page(request: Request, error: ServiceError | None = None) -> Response:
    principal = pages.me(request)
    async with org_session(principal.org_id) as db:
        public = await service.public_channels(db, principal)
        return await render(request, "chat/browse.html", db, {"public": public}, error)


async def new_channel_page(request: Request, error: ServiceError | None = None) -> Response:
    principal = pages.me(request)
    typed = await kept_values(request, error, "name", "topic", "private")
    async with org_session(principal.org_id) as db:
        return await render(request, "chat/new.html", db, {"typed": typed}, error)


async def new_channel(db: AsyncSession, principal: Principal, form: FormData, _params: Mapping[str, Any]) -> Response:
    made = await service.create(
        db,
        principal,
        field(form, "name", service.MAX_NAME + 10),
        private=field(form, "private", 10) == "1",
        topic=field(form, "topic", service.MAX_TOPIC + 10),
    )
    return pages.done(channel_url(made), "chat_channel_made")


async def _people_of(db: AsyncSession, form: FormData) -> set[uuid.UUID]:
    """The people a form names: ticked ones (``people``, ids) and typed addresses
    (``addresses``, separated by commas, semicolons or spaces)."""
    chosen = {parse_uuid(str(v)) for v in form.getlist("people") if str(v)}
    typed = field(form, "addresses", 4000).replace(";", ",").replace(" ", ",")
    for raw in typed.split(","):
        address = raw.strip().strip("<>").lower()
        if not address:
            continue
        found = await person_by_email(db, address)
        if found is None or not found.is_active:
            raise Invalid(_("Nobody here has the address %(address)s.", address=address))
        chosen.add(found.id)
    return chosen


async def direct_page(request: Request, error: ServiceError | None = None) -> Response:
    principal = pages.me(request)
    query = request.query_params.get("q", "").strip()[:100]
    typed = await kept_values(request, error, "addresses")
    async with org_session(principal.org_id) as db:
        found = (
            [p for p in await people_matching(db, principal.org_id, query, limit=20) if p.id != principal.user_id]
            if query
            else []
        )
        context = {"query": query, "found": found, "typed": typed, "max_people": service.MAX_DIRECT - 1}
        return await render(request, "chat/direct.html", db, context, error)


async def direct(db: AsyncSession, principal: Principal, form: FormData, _params: Mapping[str, Any]) -> Response:
    chosen = await _people_of(db, form)
    chosen.discard(principal.user_id)
    if not chosen:
        raise Invalid(_("Choose at least one person to write to."))
    made = await service.open_direct(db, principal, chosen)
    return RedirectResponse(channel_url(made), status_code=303)


@login_required
async def people(request: Request) -> Response:
    """Completion of people as typed (mentions, a direct conversation, members to add):
    ``[{"id", "name", "handle"}]``, the handle being the address a mention writes."""
    principal = pages.me(request)
    query = request.query_params.get("q", "").strip()[:100]
    if not query:
        return JSONResponse([])
    async with org_session(principal.org_id) as db:
        found = await people_matching(db, principal.org_id, query, limit=PEOPLE_SUGGESTED)
    return JSONResponse([{"id": str(p.id), "name": p.display_name or p.email, "handle": p.email} for p in found])


# A conversation's members and settings.


async def members_page(request: Request, error: ServiceError | None = None) -> Response:
    principal = pages.me(request)
    channel_id = _channel_id(request)
    typed = await kept_values(request, error, "addresses", "name", "topic")
    async with org_session(principal.org_id) as db:
        info = await service.info(db, principal, channel_id)
        ids = await service.members(db, principal, channel_id)
        people = await people_by_ids(db, ids)
        listed = sorted(people.values(), key=lambda p: (p.display_name or p.email).casefold())
        context = {
            "channel": info,
            "people": listed,
            "typed": typed,
            "editable": info.kind in ("public", "private"),
        }
        return await render(request, "chat/members.html", db, context, error, current=channel_id)


@login_required
async def members(request: Request) -> Response:
    return await members_page(request)


async def add_members(db: AsyncSession, principal: Principal, form: FormData, params: Mapping[str, Any]) -> Response:
    channel_id = parse_uuid(str(params["channel_id"]))
    chosen = await _people_of(db, form)
    if not chosen:
        raise Invalid(_("Choose at least one person to add."))
    await service.add_members(db, principal, channel_id, chosen)
    return pages.done(f"{channel_url(channel_id)}/members", "chat_members_added")


async def remove_member(db: AsyncSession, principal: Principal, form: FormData, params: Mapping[str, Any]) -> Response:
    channel_id = parse_uuid(str(params["channel_id"]))
    await service.remove_member(db, principal, channel_id, parse_uuid(field(form, "user_id", 40)))
    return pages.done(f"{channel_url(channel_id)}/members", "chat_member_removed")


async def settings(db: AsyncSession, principal: Principal, form: FormData, params: Mapping[str, Any]) -> Response:
    channel_id = parse_uuid(str(params["channel_id"]))
    name = field(form, "name", service.MAX_NAME + 10) if "name" in form else None
    await service.update(db, principal, channel_id, name=name, topic=field(form, "topic", service.MAX_TOPIC + 10))
    return pages.done(f"{channel_url(channel_id)}/members", "chat_updated")


async def archive(db: AsyncSession, principal: Principal, form: FormData, params: Mapping[str, Any]) -> Response:
    channel_id = parse_uuid(str(params["channel_id"]))
    archived = field(form, "archived", 10) != "0"
    await service.archive(db, principal, channel_id, archived=archived)
    return pages.done(f"{channel_url(channel_id)}/members", "chat_archived" if archived else "chat_unarchived")


async def mute(db: AsyncSession, principal: Principal, form: FormData, params: Mapping[str, Any]) -> Response:
    channel_id = parse_uuid(str(params["channel_id"]))
    muted = field(form, "muted", 10) == "1"
    await service.set_muted(db, principal, channel_id, muted)
    return pages.done(channel_url(channel_id), "chat_muted" if muted else "chat_unmuted", form)
