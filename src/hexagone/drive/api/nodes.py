"""Drives, folders and files: the caller's drives and their usage, a folder's entries
(paged, sorted), a node, making a folder, renaming, moving and copying, a file's bytes
(with HTTP Range), and the trash."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel

from hexagone.core.api import CurrentPrincipal, RangeHeader, session
from hexagone.drive import service
from hexagone.drive.api.common import (
    DriveOut,
    FolderIn,
    Limit,
    NodeOut,
    Offset,
    PlaceIn,
    RenameIn,
    errors,
)
from hexagone.drive.api.downloads import send_file

router = APIRouter(tags=["drive"])


class UsageOut(BaseModel):
    used_bytes: int
    quota_bytes: int | None
    available_bytes: int | None


class ListingOut(BaseModel):
    folder: NodeOut
    entries: list[NodeOut]
    has_more: bool


@router.get("/drives", response_model=list[DriveOut], summary="The drives the caller reaches")
async def list_drives(principal: CurrentPrincipal) -> list[DriveOut]:
    async with session(principal) as db:
        return [DriveOut.of(d) for d in await service.drives(db, principal)]


@router.get("/drives/mine", response_model=DriveOut, summary="The caller's own drive (made on first use)")
async def my_drive(principal: CurrentPrincipal) -> DriveOut:
    async with session(principal, write=True) as db:
        found = await service.drive_of_user(db, principal)
        await db.commit()
    return DriveOut.of(found)


@router.get("/spaces/{space_id}/drive", response_model=DriveOut, summary="A space's drive (made on first use)")
async def space_drive(principal: CurrentPrincipal, space_id: uuid.UUID) -> DriveOut:
    async with session(principal, write=True) as db:
        found = await service.drive_of_space(db, principal, space_id)
        await db.commit()
    return DriveOut.of(found)


@router.get("/drives/{drive_id}/usage", response_model=UsageOut, summary="A drive's bytes used and its quota")
async def drive_usage(principal: CurrentPrincipal, drive_id: uuid.UUID) -> UsageOut:
    async with session(principal) as db:
        found = await service.usage(db, principal, drive_id)
    return UsageOut(used_bytes=found.used_bytes, quota_bytes=found.quota_bytes, available_bytes=found.available_bytes)


@router.get(
    "/folders/{folder_id}/entries",
    response_model=ListingOut,
    responses=errors(400),
    summary="A page of a folder's entries, folders first",
)
async def list_folder(
    principal: CurrentPrincipal,
    folder_id: uuid.UUID,
    offset: Offset = 0,
    limit: Limit = 200,
    order: Annotated[Literal["name", "modified", "size"], Query()] = "name",
    descending: bool = False,
) -> ListingOut:
    async with session(principal) as db:
        found = await service.list_folder(
            db, principal, folder_id, offset=offset, limit=limit, order=order, descending=descending
        )
    return ListingOut(
        folder=NodeOut.of(found.folder), entries=[NodeOut.of(e) for e in found.entries], has_more=found.has_more
    )


@router.get("/nodes/{node_id}", response_model=NodeOut, summary="A file or a folder")
async def get_node(principal: CurrentPrincipal, node_id: uuid.UUID) -> NodeOut:
    async with session(principal) as db:
        return NodeOut.of(await service.node(db, principal, node_id))


@router.get("/nodes/{node_id}/path", response_model=list[NodeOut], summary="The folders from the root down to the node")
async def node_path(principal: CurrentPrincipal, node_id: uuid.UUID) -> list[NodeOut]:
    async with session(principal) as db:
        return [NodeOut.of(n) for n in await service.path_of(db, principal, node_id)]


@router.post(
    "/folders/{folder_id}/folders",
    response_model=NodeOut,
    status_code=201,
    responses=errors(400, 409, 423),
    summary="Make a folder",
)
async def create_folder(principal: CurrentPrincipal, folder_id: uuid.UUID, body: FolderIn) -> NodeOut:
    async with session(principal, write=True) as db:
        made = await service.create_folder(db, principal, folder_id, body.name, rename=body.on_conflict == "rename")
        await db.commit()
    return NodeOut.of(made)


@router.post("/nodes/{node_id}/rename", response_model=NodeOut, responses=errors(400, 409, 423), summary="Rename")
async def rename(principal: CurrentPrincipal, node_id: uuid.UUID, body: RenameIn) -> NodeOut:
    async with session(principal, write=True) as db:
        done = await service.rename(db, principal, node_id, body.name, on_conflict=body.on_conflict)
        await db.commit()
    return NodeOut.of(done)


@router.post(
    "/nodes/{node_id}/move",
    response_model=NodeOut,
    responses=errors(400, 409, 423, 507),
    summary="Move into another folder (of any drive the caller writes in)",
)
async def move(principal: CurrentPrincipal, node_id: uuid.UUID, body: PlaceIn) -> NodeOut:
    async with session(principal, write=True) as db:
        done = await service.move(db, principal, node_id, body.folder_id, name=body.name, on_conflict=body.on_conflict)
        await db.commit()
    return NodeOut.of(done)


@router.post(
    "/nodes/{node_id}/copy",
    response_model=NodeOut,
    status_code=201,
    responses=errors(400, 409, 423, 507),
    summary="Copy (a folder with what is in it)",
)
async def copy(principal: CurrentPrincipal, node_id: uuid.UUID, body: PlaceIn) -> NodeOut:
    async with session(principal, write=True) as db:
        done = await service.copy(db, principal, node_id, body.folder_id, name=body.name, on_conflict=body.on_conflict)
        await db.commit()
    return NodeOut.of(done)


@router.get(
    "/files/{node_id}/content",
    responses={
        **errors(400, 416),
        200: {"content": {"application/octet-stream": {}}, "description": "The whole file."},
        206: {"content": {"application/octet-stream": {}}, "description": "The byte range asked for."},
    },
    response_class=Response,
    summary="A file's bytes, whole or the range asked for (one range)",
)
async def download(
    principal: CurrentPrincipal,
    node_id: uuid.UUID,
    range_: RangeHeader = None,
) -> Response:
    return await send_file(principal, node_id, range_)


@router.delete("/nodes/{node_id}", response_model=NodeOut, responses=errors(423), summary="Put in the trash")
async def trash(principal: CurrentPrincipal, node_id: uuid.UUID) -> NodeOut:
    async with session(principal, write=True) as db:
        done = await service.trash(db, principal, node_id)
        await db.commit()
    return NodeOut.of(done)


@router.get("/drives/{drive_id}/trash", response_model=list[NodeOut], summary="What is in a drive's trash")
async def list_trash(principal: CurrentPrincipal, drive_id: uuid.UUID) -> list[NodeOut]:
    async with session(principal) as db:
        return [NodeOut.of(n) for n in await service.in_trash(db, principal, drive_id)]


@router.post(
    "/trash/{node_id}/restore",
    response_model=NodeOut,
    summary="Put a node back where it was (numbered when its name is taken)",
)
async def restore(principal: CurrentPrincipal, node_id: uuid.UUID) -> NodeOut:
    async with session(principal, write=True) as db:
        done = await service.restore(db, principal, node_id)
        await db.commit()
    return NodeOut.of(done)


class FreedOut(BaseModel):
    freed_bytes: int


@router.delete("/trash/{node_id}", response_model=FreedOut, summary="Delete a node of the trash for good")
async def purge(principal: CurrentPrincipal, node_id: uuid.UUID) -> FreedOut:
    async with session(principal, write=True) as db:
        freed = await service.purge(db, principal, node_id)
        await db.commit()
    return FreedOut(freed_bytes=freed)


@router.delete("/drives/{drive_id}/trash", response_model=FreedOut, summary="Empty a drive's trash")
async def empty_trash(principal: CurrentPrincipal, drive_id: uuid.UUID) -> FreedOut:
    async with session(principal, write=True) as db:
        freed = await service.empty_trash(db, principal, drive_id)
        await db.commit()
    return FreedOut(freed_bytes=freed)
