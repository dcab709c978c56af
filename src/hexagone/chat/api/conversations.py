"""Conversations: the caller's list, public channels to browse, creating, direct
conversations, joining, leaving, members, renaming, archiving, read markers, muting."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Response
from pydantic import BaseModel, Field, StrictBool

from hexagone.chat import service
from hexagone.chat.api.common import ChannelOut, errors
from hexagone.core.api import CurrentPrincipal, Text, line, session, whole

router = APIRouter(tags=["chat"])


@router.get(
    "/channels", response_model=list[ChannelOut], summary="The caller's conversations, as their sidebar lists them"
)
async def list_channels(principal: CurrentPrincipal) -> list[ChannelOut]:
    async with session(principal, write=True) as db:
        if await service.missing_space_channels(db, principal):
            await service.ensure_space_channels(db, principal)
            await db.commit()
        found = await service.listing(db, principal)
    return [ChannelOut.of(c) for c in found]


@router.get("/public-channels", response_model=list[ChannelOut], summary="The organisation's public channels")
async def browse(principal: CurrentPrincipal) -> list[ChannelOut]:
    async with session(principal) as db:
        return [ChannelOut.of(c) for c in await service.public_channels(db, principal)]


class NewChannel(BaseModel):
    name: line(service.MAX_NAME)  # type: ignore[valid-type]
    private: StrictBool = False
    topic: Annotated[Text, Field(max_length=service.MAX_TOPIC)] = ""


@router.post(
    "/channels", status_code=201, response_model=ChannelOut, responses=errors(400, 409), summary="Create a channel"
)
async def create_channel(principal: CurrentPrincipal, body: NewChannel) -> ChannelOut:
    async with session(principal, write=True) as db:
        channel_id = await service.create(db, principal, body.name, private=body.private, topic=body.topic)
        await db.commit()
        return ChannelOut.of(await service.info(db, principal, channel_id))


class People(BaseModel):
    users: Annotated[list[uuid.UUID], Field(min_length=1, max_length=service.MAX_DIRECT - 1)]


@router.post(
    "/direct", response_model=ChannelOut, responses=errors(400), summary="The direct conversation with these people"
)
async def open_direct(principal: CurrentPrincipal, body: People) -> ChannelOut:
    async with session(principal, write=True) as db:
        channel_id = await service.open_direct(db, principal, body.users)
        await db.commit()
        return ChannelOut.of(await service.info(db, principal, channel_id))


@router.get("/channels/{channel_id}", response_model=ChannelOut, summary="One conversation")
async def get_channel(principal: CurrentPrincipal, channel_id: uuid.UUID) -> ChannelOut:
    async with session(principal) as db:
        return ChannelOut.of(await service.info(db, principal, channel_id))


class ChannelChange(BaseModel):
    name: line(service.MAX_NAME) | None = None  # type: ignore[valid-type]
    topic: Annotated[Text, Field(max_length=service.MAX_TOPIC)] | None = None
    archived: StrictBool | None = None


@router.patch(
    "/channels/{channel_id}",
    response_model=ChannelOut,
    responses=errors(400, 409),
    summary="Rename, set the topic, archive",
)
async def change_channel(principal: CurrentPrincipal, channel_id: uuid.UUID, body: ChannelChange) -> ChannelOut:
    async with session(principal, write=True) as db:
        if body.name is not None or body.topic is not None:
            await service.update(db, principal, channel_id, name=body.name, topic=body.topic)
        if body.archived is not None:
            await service.archive(db, principal, channel_id, archived=body.archived)
        await db.commit()
        return ChannelOut.of(await service.info(db, principal, channel_id))


@router.post("/channels/{channel_id}/join", status_code=204, summary="Join a public channel")
async def join(principal: CurrentPrincipal, channel_id: uuid.UUID) -> Response:
    async with session(principal, write=True) as db:
        await service.join(db, principal, channel_id)
        await db.commit()
    return Response(status_code=204)


@router.post("/channels/{channel_id}/leave", status_code=204, summary="Leave a channel")
async def leave(principal: CurrentPrincipal, channel_id: uuid.UUID) -> Response:
    async with session(principal, write=True) as db:
        await service.leave(db, principal, channel_id)
        await db.commit()
    return Response(status_code=204)


@router.get("/channels/{channel_id}/members", response_model=list[uuid.UUID], summary="Who is in a conversation")
async def members(principal: CurrentPrincipal, channel_id: uuid.UUID) -> list[uuid.UUID]:
    async with session(principal) as db:
        return await service.members(db, principal, channel_id)


@router.post("/channels/{channel_id}/members", status_code=204, summary="Add people to a channel (its managers)")
async def add_members(principal: CurrentPrincipal, channel_id: uuid.UUID, body: People) -> Response:
    async with session(principal, write=True) as db:
        await service.add_members(db, principal, channel_id, body.users)
        await db.commit()
    return Response(status_code=204)


@router.delete(
    "/channels/{channel_id}/members/{user_id}", status_code=204, summary="Remove someone from a channel (its managers)"
)
async def remove_member(principal: CurrentPrincipal, channel_id: uuid.UUID, user_id: uuid.UUID) -> Response:
    async with session(principal, write=True) as db:
        await service.remove_member(db, principal, channel_id, user_id)
        await db.commit()
    return Response(status_code=204)


class ReadMarker(BaseModel):
    seq: whole(0, 2**53) = Field(description="The number of the last message read.")  # type: ignore[valid-type]


class Marked(BaseModel):
    read: int


@router.post("/channels/{channel_id}/read", response_model=Marked, summary="Move the caller's read marker forward")
async def mark_read(principal: CurrentPrincipal, channel_id: uuid.UUID, body: ReadMarker) -> Marked:
    async with session(principal, write=True) as db:
        marker = await service.mark_read(db, principal, channel_id, body.seq)
        await db.commit()
    return Marked(read=marker)


class Muting(BaseModel):
    muted: StrictBool


@router.put("/channels/{channel_id}/muted", status_code=204, summary="Mute or unmute a conversation for the caller")
async def mute(principal: CurrentPrincipal, channel_id: uuid.UUID, body: Muting) -> Response:
    async with session(principal, write=True) as db:
        await service.set_muted(db, principal, channel_id, body.muted)
        await db.commit()
    return Response(status_code=204)
