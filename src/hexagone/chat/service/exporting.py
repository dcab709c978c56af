"""A conversation as JSON, for its members (``GET /api/v1/chat/channels/{id}/export``,
``hexagone chat export``), and every conversation in the organisation's export: the
channel, then every message and reply in order with its reactions and files, written in
batches so that a long history is never held whole."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Mapping

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hexagone.chat.models import Attachment, Channel, Member, Message
from hexagone.chat.service import channels
from hexagone.chat.service.messages import infos
from hexagone.core import blobs
from hexagone.core.auth import Principal
from hexagone.core.encoding import encode
from hexagone.core.export import ExportWriter

BATCH = 500


async def channel_json(db: AsyncSession, principal: Principal, channel_id: uuid.UUID) -> AsyncIterator[bytes]:
    """The export's bytes, in pieces: ``{"channel": {...}, "messages": [...]}``."""
    info = await channels.info(db, principal, channel_id)
    head = {"id": str(info.id), "kind": info.kind, "title": info.title, "topic": info.topic, "archived": info.archived}
    async for piece in _document(db, head, channel_id):
        yield piece


async def organisation(db: AsyncSession, _org_id: uuid.UUID, writer: ExportWriter) -> None:
    """The chat's part of ``hexagone org export``: ``chat/channels.json`` (every
    conversation with its members), ``chat/<channel id>.json`` (as a member's export)
    and ``chat/files/<file id>``, the bytes of every file sent (those of deleted messages
    the organisation keeps for the audit included)."""
    found = list((await db.execute(select(Channel).order_by(Channel.created_at, Channel.id))).scalars())
    members: dict[uuid.UUID, list[str]] = {}
    for channel_id, user_id in (await db.execute(select(Member.channel_id, Member.user_id))).all():
        members.setdefault(channel_id, []).append(str(user_id))
    index = []
    for channel in found:
        head = {
            "id": str(channel.id),
            "kind": channel.kind,
            "name": channel.name,
            "topic": channel.topic,
            "space_id": str(channel.space_id) if channel.space_id else None,
            "archived": channel.archived_at is not None,
            "members": sorted(members.get(channel.id, [])),
        }
        index.append(head)
        await writer.write_stream(f"{channel.id}.json", _document(db, head, channel.id))
    writer.write_json("channels.json", index)
    sent = select(Attachment.id, Attachment.blob_key).where(Attachment.message_id.is_not(None))
    for attachment_id, key in (await db.execute(sent.order_by(Attachment.created_at, Attachment.id))).all():
        await writer.write_stream(f"files/{attachment_id}", await blobs.get_store().get(key))


async def _document(db: AsyncSession, head: Mapping[str, object], channel_id: uuid.UUID) -> AsyncIterator[bytes]:
    yield b'{"channel":' + encode(dict(head)) + b',"messages":['
    after, first = -1, True
    while True:
        stmt = (
            select(Message)
            .where(Message.channel_id == channel_id, Message.seq > after)
            .order_by(Message.seq)
            .limit(BATCH)
        )
        batch = list((await db.execute(stmt)).scalars())
        if not batch:
            break
        for message in await infos(db, batch):
            yield (b"" if first else b",") + json.dumps(message.as_json(), ensure_ascii=False).encode()
            first = False
        after = batch[-1].seq
    yield b"]}"
