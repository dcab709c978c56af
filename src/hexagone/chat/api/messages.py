"""Messages: history pages, posting, a thread, editing, deleting, reactions, pins, and
a conversation's export."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Path, Query, Response
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from hexagone.chat import service
from hexagone.chat.api.common import MessageOut, errors
from hexagone.chat.service.limits import posting_allowed
from hexagone.core.api import CurrentPrincipal, line, session
from hexagone.core.db import org_session

router = APIRouter(tags=["chat"])

Seq = Annotated[int | None, Query(ge=0, le=2**53, description="A message number.")]


@router.get(
    "/channels/{channel_id}/messages",
    response_model=list[MessageOut],
    responses=errors(400),
    summary="A page of a conversation's messages (not replies), oldest first",
)
async def history(
    principal: CurrentPrincipal,
    channel_id: uuid.UUID,
    before: Seq = None,
    after: Seq = None,
    limit: Annotated[int, Query(ge=1, le=service.MAX_PAGE)] = service.PAGE,
) -> list[MessageOut]:
    async with session(principal) as db:
        found = await service.history(db, principal, channel_id, before=before, after=after, limit=limit)
    return [MessageOut.of(m) for m in found]


class NewMessage(BaseModel):
    # A text, or files, or both: said in the schema so that clients (and schemathesis) know it.
    model_config = ConfigDict(
        json_schema_extra={
            "anyOf": [
                {"required": ["text"]},
                {"required": ["attachments"], "properties": {"attachments": {"minItems": 1}}},
            ]
        }
    )

    text: line(service.MAX_TEXT) = Field(  # type: ignore[valid-type]
        default="", description="Markdown; may be left out when files are sent."
    )
    thread: uuid.UUID | None = Field(default=None, description="Reply in the thread of this message.")
    client_id: Annotated[str, Field(min_length=1, max_length=64)] | None = Field(
        default=None, description="The client's own identifier: a post retried with it is stored once."
    )
    attachments: list[uuid.UUID] = Field(
        default_factory=list,
        max_length=service.MAX_PER_MESSAGE,
        description="Files uploaded to the conversation (POST /channels/{id}/files) to send with the message.",
    )


@router.post(
    "/channels/{channel_id}/messages",
    status_code=201,
    response_model=MessageOut,
    responses=errors(400, 429),
    summary="Post a message (or a reply)",
)
async def post(principal: CurrentPrincipal, channel_id: uuid.UUID, body: NewMessage) -> MessageOut:
    posting_allowed(principal)
    async with session(principal, write=True) as db:
        posted = await service.post(
            db,
            principal,
            channel_id,
            body.text,
            thread_id=body.thread,
            client_id=body.client_id,
            files=body.attachments,
        )
        await db.commit()
    return MessageOut.of(posted)


@router.get("/messages/{message_id}", response_model=MessageOut, summary="One message")
async def get_message(principal: CurrentPrincipal, message_id: uuid.UUID) -> MessageOut:
    async with session(principal) as db:
        return MessageOut.of(await service.one(db, principal, message_id))


class Thread(BaseModel):
    root: MessageOut
    replies: list[MessageOut]


@router.get("/messages/{message_id}/thread", response_model=Thread, summary="A thread: its first message and replies")
async def thread(principal: CurrentPrincipal, message_id: uuid.UUID) -> Thread:
    async with session(principal) as db:
        root, replies = await service.thread(db, principal, message_id)
    return Thread(root=MessageOut.of(root), replies=[MessageOut.of(r) for r in replies])


class Edit(BaseModel):
    text: line(service.MAX_TEXT)  # type: ignore[valid-type]


@router.patch("/messages/{message_id}", response_model=MessageOut, responses=errors(400), summary="Edit one's message")
async def edit(principal: CurrentPrincipal, message_id: uuid.UUID, body: Edit) -> MessageOut:
    async with session(principal, write=True) as db:
        edited = await service.edit(db, principal, message_id, body.text)
        await db.commit()
    return MessageOut.of(edited)


@router.delete("/messages/{message_id}", status_code=204, summary="Delete a message (its author, or a manager)")
async def delete(principal: CurrentPrincipal, message_id: uuid.UUID) -> Response:
    async with session(principal, write=True) as db:
        await service.delete(db, principal, message_id)
        await db.commit()
    return Response(status_code=204)


Emoji = Annotated[
    str,
    Path(
        min_length=1,
        max_length=service.MAX_EMOJI,
        # What the service refuses (str.isspace and control characters), said to clients.
        pattern=r"^[^\x00-\x20\x7f\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+$",
        description="One emoji or a short :name: (no space, no control character).",
    ),
]


@router.put(
    "/messages/{message_id}/reactions/{emoji}", response_model=MessageOut, responses=errors(400), summary="React"
)
async def react(principal: CurrentPrincipal, message_id: uuid.UUID, emoji: Emoji) -> MessageOut:
    async with session(principal, write=True) as db:
        changed = await service.react(db, principal, message_id, emoji, on=True)
        await db.commit()
    return MessageOut.of(changed)


@router.delete(
    "/messages/{message_id}/reactions/{emoji}",
    response_model=MessageOut,
    responses=errors(400),
    summary="Take a reaction back",
)
async def unreact(principal: CurrentPrincipal, message_id: uuid.UUID, emoji: Emoji) -> MessageOut:
    async with session(principal, write=True) as db:
        changed = await service.react(db, principal, message_id, emoji, on=False)
        await db.commit()
    return MessageOut.of(changed)


@router.put("/messages/{message_id}/pin", response_model=MessageOut, summary="Pin a message to its conversation")
async def pin(principal: CurrentPrincipal, message_id: uuid.UUID) -> MessageOut:
    async with session(principal, write=True) as db:
        changed = await service.pin(db, principal, message_id, pinned=True)
        await db.commit()
    return MessageOut.of(changed)


@router.delete("/messages/{message_id}/pin", response_model=MessageOut, summary="Unpin a message")
async def unpin(principal: CurrentPrincipal, message_id: uuid.UUID) -> MessageOut:
    async with session(principal, write=True) as db:
        changed = await service.pin(db, principal, message_id, pinned=False)
        await db.commit()
    return MessageOut.of(changed)


@router.get("/channels/{channel_id}/pins", response_model=list[MessageOut], summary="A conversation's pinned messages")
async def pins(principal: CurrentPrincipal, channel_id: uuid.UUID) -> list[MessageOut]:
    async with session(principal) as db:
        return [MessageOut.of(m) for m in await service.pinned(db, principal, channel_id)]


@router.get(
    "/channels/{channel_id}/export",
    response_class=StreamingResponse,
    responses={200: {"content": {"application/json": {}}, "description": "The conversation and all its messages."}},
    summary="Export a conversation as JSON",
)
async def export(principal: CurrentPrincipal, channel_id: uuid.UUID) -> StreamingResponse:
    async with session(principal) as db:
        await service.info(db, principal, channel_id)  # refused here, before the answer starts

    async def body() -> AsyncIterator[bytes]:
        async with org_session(principal.org_id) as db:
            async for piece in service.channel_json(db, principal, channel_id):
                yield piece

    return StreamingResponse(
        body(),
        media_type="application/json",
        headers={"content-disposition": f'attachment; filename="chat-{channel_id}.json"'},
    )
