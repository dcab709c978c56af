"""A conversation as JSON, for its members (``GET /api/v1/chat/channels/{id}/export``,
``hexagone chat export``): the channel, then every message and reply in order with its
reactions, written in batches so that a long history is never held whole."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hexagone.chat.models import Message
from hexagone.chat.service import channels
from hexagone.chat.service.messages import infos
from hexagone.core.auth import Principal
from hexagone.core.encoding import encode

BATCH = 500


async def channel_json(db: AsyncSession, principal: Principal, channel_id: uuid.UUID) -> AsyncIterator[bytes]:
    """The export's bytes, in pieces: ``{"channel": {...}, "messages": [...]}``."""
    info = await channels.info(db, principal, channel_id)
    head = {
        "id": str(info.id),
        "kind": info.kind,
        "title": info.title,
        "topic": info.topic,
        "archived": info.archived,
    }
    yield b'{"channel":' + encode(head) + b',"messages":['
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
