"""What the chat's pages share: the notices of changes, the frame around every page
(the person's conversations, grouped as the sidebar shows them) and what a template
needs to draw a message and the controls the person may use on it."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response

from hexagone.chat import service
from hexagone.chat.live import PAGE_PATH
from hexagone.core import live, pages
from hexagone.core.auth import Principal
from hexagone.core.config import get_settings
from hexagone.core.db import org_session
from hexagone.core.exceptions import ServiceError
from hexagone.core.i18n import N_
from hexagone.drive.service import has_own_drive

pages.notices(
    {
        "chat_channel_made": N_("The channel is made."),
        "chat_joined": N_("You joined the channel."),
        "chat_left": N_("You left the channel."),
        "chat_muted": N_("The conversation is muted: it no longer notifies you."),
        "chat_unmuted": N_("The conversation notifies you again."),
        "chat_updated": N_("The channel is updated."),
        "chat_archived": N_("The channel is archived: it is read-only."),
        "chat_unarchived": N_("The channel is open for writing again."),
        "chat_members_added": N_("The people are added."),
        "chat_member_removed": N_("The person is removed from the channel."),
        "chat_edited": N_("The message is changed."),
        "chat_deleted": N_("The message is deleted."),
        "chat_saved_to_drive": N_("The file is saved in your drive."),
    }
)

# The reactions offered in a message's menu (any emoji may be sent through the API).
QUICK_REACTIONS = ("👍", "❤️", "😄", "🎉", "👀", "✅")
STATES = ("online", "away", "dnd")


def channel_url(channel_id: uuid.UUID) -> str:
    return f"/chat/{channel_id}"


@dataclass(frozen=True)
class Groups:
    """The sidebar's three groups of conversations."""

    spaces: list[service.ChannelInfo]
    channels: list[service.ChannelInfo]
    direct: list[service.ChannelInfo]


def grouped(listed: list[service.ChannelInfo]) -> Groups:
    return Groups(
        spaces=[c for c in listed if c.kind == "space"],
        channels=[c for c in listed if c.kind in ("public", "private")],
        direct=[c for c in listed if c.kind == "direct"],
    )


async def ensure_space_channels(principal: Principal) -> None:
    """Make the missing ``#général`` of the person's spaces, in a write transaction only
    when one is missing (a page view otherwise only reads)."""
    async with org_session(principal.org_id) as db:
        missing = await service.missing_space_channels(db, principal)
    if missing:
        async with org_session(principal.org_id, write=True) as db:
            await service.ensure_space_channels(db, principal)
            await db.commit()


async def frame(db: AsyncSession, principal: Principal, current: uuid.UUID | None = None) -> dict[str, Any]:
    listed = await service.listing(db, principal)
    return {
        "groups": grouped(listed),
        "current_id": current,
        "can_create": not principal.is_guest,
        "quick_reactions": QUICK_REACTIONS,
        "states": STATES,
        "max_files": service.MAX_PER_MESSAGE,
        "max_file_size": service.MAX_SIZE,
        "to_drive": has_own_drive(principal),
        "live_url": live.public_url(get_settings(), PAGE_PATH),
    }


async def render(
    request: Request,
    template: str,
    db: AsyncSession,
    context: dict[str, Any],
    error: ServiceError | None = None,
    *,
    current: uuid.UUID | None = None,
) -> Response:
    principal = pages.me(request)
    return pages.render(request, template, {**await frame(db, principal, current), **context}, error)


BLANK_ID = uuid.UUID(int=0)
ALL_CONTROLS = {"edit": True, "delete": True, "pin": True, "react": True, "reply": True}


def blank_message(channel_id: uuid.UUID) -> service.MessageInfo:
    """The message the page's <template> draws, for the script to copy and fill."""
    return service.MessageInfo(
        id=BLANK_ID,
        channel_id=channel_id,
        seq=0,
        author_id=BLANK_ID,
        author_name="{name}",  # the script writes the author's name here
        thread_id=None,
        text="",
        html="",
        created_at=datetime(2000, 1, 1, tzinfo=UTC),
        edited_at=None,
        deleted=False,
        pinned=False,
        reply_count=0,
        last_reply_at=None,
    )


def message_controls(
    principal: Principal, channel: service.ChannelInfo, message: service.MessageInfo
) -> dict[str, bool]:
    """What the person may do with one message, as the service decides it (the page only
    hides what would be refused)."""
    post = bool(channel.abilities.get("post"))
    mine = message.author_id == principal.user_id
    alive = not message.deleted
    return {
        "edit": alive and mine and post,
        "delete": alive and ((mine and post) or bool(channel.abilities.get("manage"))),
        "pin": alive and post,
        "react": alive and bool(channel.abilities.get("react")),
        "reply": alive and post and message.thread_id is None,
    }
