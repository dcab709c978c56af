"""Data for the drive tests: organisations subscribed to the drive, members with their
drive, files stored through the service as any way in stores them, and uploads that
break half-way."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

from hexagone.core.auth import Principal
from hexagone.core.db import org_session
from hexagone.drive.service import DriveInfo, NodeInfo, drive_of_space, drive_of_user, open, store
from tests.factories import TestOrg, TestUser, make_org, make_user, principal

MODULES = ("drive",)


async def make_drive_org(**options: bool) -> TestOrg:
    return await make_org(modules=MODULES, **options)


async def make_member(org: TestOrg | None = None, role: str = "user") -> tuple[TestUser, Principal]:
    """A user of ``org`` (a new organisation without one) and their principal."""
    user = await make_user(org or await make_drive_org(), role=role)
    return user, await principal(user)


async def own_drive(who: Principal) -> DriveInfo:
    async with org_session(who.org_id, write=True) as db:
        found = await drive_of_user(db, who)
        await db.commit()
    return found


async def space_drive(who: Principal, space_id: uuid.UUID) -> DriveInfo:
    async with org_session(who.org_id, write=True) as db:
        found = await drive_of_space(db, who, space_id)
        await db.commit()
    return found


async def chunks(data: bytes, size: int = 64 * 1024) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


async def broken(data: bytes, after: int) -> AsyncIterator[bytes]:
    """An upload cut after ``after`` bytes: the client went away."""
    async for chunk in chunks(data[:after], 16 * 1024):
        yield chunk
    raise ConnectionResetError("the client went away")


async def put(who: Principal, folder_id: uuid.UUID, name: str, data: bytes = b"hello", **options: object) -> NodeInfo:
    return await store(who, folder_id, name, chunks(data), **options)  # type: ignore[arg-type]


async def read(who: Principal, node_id: uuid.UUID, **options: object) -> bytes:
    async with org_session(who.org_id) as db:
        _info, stream = await open(db, who, node_id, **options)  # type: ignore[arg-type]
    return b"".join([chunk async for chunk in stream])
