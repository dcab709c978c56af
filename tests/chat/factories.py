"""Data for the chat tests: organisations subscribed to the chat, their members, and
conversations and messages made through the service as every way in makes them."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

from hexagone.chat import service
from hexagone.core.auth import Principal
from hexagone.core.db import org_session
from tests.factories import TestOrg, TestUser, make_org, make_user, principal

MODULES = ("chat",)


async def make_chat_org() -> TestOrg:
    return await make_org(modules=MODULES)


async def make_member(org: TestOrg | None = None, role: str = "user") -> tuple[TestUser, Principal]:
    """A user of ``org`` (a new organisation without one) and their principal."""
    user = await make_user(org or await make_chat_org(), role=role)
    return user, await principal(user)


async def channel(who: Principal, name: str | None = None, *, private: bool = False) -> uuid.UUID:
    async with org_session(who.org_id, write=True) as db:
        made = await service.create(db, who, name or f"canal-{uuid.uuid4().hex[:8]}", private=private)
        await db.commit()
    return made


async def direct(who: Principal, *others: Principal) -> uuid.UUID:
    async with org_session(who.org_id, write=True) as db:
        made = await service.open_direct(db, who, [o.user_id for o in others])
        await db.commit()
    return made


async def join(who: Principal, channel_id: uuid.UUID) -> None:
    async with org_session(who.org_id, write=True) as db:
        await service.join(db, who, channel_id)
        await db.commit()


async def space_channel(who: Principal, space_id: uuid.UUID) -> uuid.UUID:
    """The ``#général`` of a space ``who`` is a member of."""
    async with org_session(who.org_id, write=True) as db:
        await service.ensure_space_channels(db, who)
        await db.commit()
        found = [c for c in await service.listing(db, who) if c.space_id == space_id]
    return found[0].id


async def say(who: Principal, channel_id: uuid.UUID, text: str = "Bonjour", **options: object) -> service.MessageInfo:
    async with org_session(who.org_id, write=True) as db:
        posted = await service.post(db, who, channel_id, text, **options)  # type: ignore[arg-type]
        await db.commit()
    return posted


async def listing(who: Principal) -> list[service.ChannelInfo]:
    async with org_session(who.org_id) as db:
        return await service.listing(db, who)


async def history(who: Principal, channel_id: uuid.UUID, **options: object) -> list[service.MessageInfo]:
    async with org_session(who.org_id) as db:
        return await service.history(db, who, channel_id, **options)  # type: ignore[arg-type]


async def upload(
    who: Principal, channel_id: uuid.UUID, name: str = "note.txt", data: bytes = b"du texte", content_type: str = ""
) -> service.AttachmentInfo:
    """A file uploaded to the conversation, not sent yet."""

    async def chunks() -> AsyncIterator[bytes]:
        yield data

    return await service.upload_file(who, channel_id, name, content_type or None, chunks())


async def read_file(who: Principal, attachment_id: uuid.UUID, *, preview: bool = False) -> bytes:
    async with org_session(who.org_id) as db:
        opened = await service.open_file(db, who, attachment_id, preview=preview)
    return b"".join([chunk async for chunk in await opened.read()])
