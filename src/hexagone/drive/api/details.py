"""What hangs on a node: a file's versions, check-out and check-in, its description,
tags and custom fields (and a space drive's field definitions), favourites and recent
files, and its shares."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Response
from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy.ext.asyncio import AsyncSession

from hexagone.core.api import CurrentPrincipal, RangeHeader, Text, line, session
from hexagone.core.auth import Principal
from hexagone.core.exceptions import Conflict
from hexagone.core.i18n import gettext as _
from hexagone.drive import service
from hexagone.drive.api.common import NodeOut, errors
from hexagone.drive.api.downloads import send_file

router = APIRouter(tags=["drive"])


class VersionOut(BaseModel):
    id: uuid.UUID
    number: int
    size: int
    sha256: str
    content_type: str
    created_at: datetime
    created_by: uuid.UUID | None
    current: bool


@router.get("/files/{node_id}/versions", response_model=list[VersionOut], summary="A file's versions, newest first")
async def list_versions(principal: CurrentPrincipal, node_id: uuid.UUID) -> list[VersionOut]:
    async with session(principal) as db:
        found = await service.versions(db, principal, node_id)
    return [
        VersionOut(
            id=v.id,
            number=v.number,
            size=v.size,
            sha256=v.sha256,
            content_type=v.content_type,
            created_at=v.created_at,
            created_by=v.created_by,
            current=v.current,
        )
        for v in found
    ]


@router.get(
    "/files/{node_id}/versions/{version_id}/content",
    response_class=Response,
    responses={**errors(400, 416), 200: {"content": {"application/octet-stream": {}}, "description": "The bytes."}},
    summary="A version's bytes (one range may be asked for)",
)
async def download_version(
    principal: CurrentPrincipal,
    node_id: uuid.UUID,
    version_id: uuid.UUID,
    range_: RangeHeader = None,
) -> Response:
    return await send_file(principal, node_id, range_, version_id=version_id)


@router.post(
    "/files/{node_id}/versions/{version_id}/restore",
    response_model=NodeOut,
    responses=errors(423, 507),
    summary="Make an old version current again (as a new version)",
)
async def restore_version(principal: CurrentPrincipal, node_id: uuid.UUID, version_id: uuid.UUID) -> NodeOut:
    async with session(principal, write=True) as db:
        done = await service.restore_version(db, principal, node_id, version_id)
        await db.commit()
    return NodeOut.of(done)


@router.post(
    "/files/{node_id}/checkout",
    response_model=NodeOut,
    responses=errors(400, 423),
    summary="Check a file out: only the caller writes it until check-in",
)
async def checkout(principal: CurrentPrincipal, node_id: uuid.UUID) -> NodeOut:
    async with session(principal, write=True) as db:
        done = await service.checkout(db, principal, node_id)
        await db.commit()
    return NodeOut.of(done)


@router.post(
    "/files/{node_id}/checkin",
    response_model=NodeOut,
    responses=errors(400, 423),
    summary="Check a file in (its holder, or a manager releasing it)",
)
async def checkin(principal: CurrentPrincipal, node_id: uuid.UUID) -> NodeOut:
    async with session(principal, write=True) as db:
        done = await service.checkin(db, principal, node_id)
        await db.commit()
    return NodeOut.of(done)


class FieldOut(BaseModel):
    id: uuid.UUID
    label: str
    kind: str = Field(description="text, number, date or choice.")
    choices: list[str]


class MetadataOut(BaseModel):
    description: str
    tags: list[str]
    fields: list[FieldOut] = Field(description="The custom fields of the node's drive (a space's).")
    values: dict[uuid.UUID, str] = Field(description="The node's value of each field that has one.")
    favourite: bool


class MetadataIn(BaseModel):
    description: Text | None = Field(default=None, max_length=10_000)
    tags: list[line(100)] | None = Field(default=None, max_length=50)  # type: ignore[valid-type]
    values: dict[uuid.UUID, Annotated[Text, Field(max_length=1000)]] | None = Field(
        default=None, description="Field id to value; an empty value removes it."
    )
    favourite: bool | None = None


def _field_out(f: service.FieldInfo) -> FieldOut:
    return FieldOut(id=f.id, label=f.label, kind=f.kind, choices=list(f.choices))


async def _metadata(db: AsyncSession, principal: Principal, node_id: uuid.UUID) -> MetadataOut:
    node = await service.node(db, principal, node_id)
    favourites = {n.id for n in await service.favourites(db, principal)}
    return MetadataOut(
        description=node.description,
        tags=await service.tags(db, principal, node_id),
        fields=[_field_out(f) for f in await service.node_fields(db, principal, node_id)],
        values=await service.field_values(db, principal, node_id),
        favourite=node_id in favourites,
    )


@router.get("/nodes/{node_id}/metadata", response_model=MetadataOut, summary="Description, tags, fields, favourite")
async def get_metadata(principal: CurrentPrincipal, node_id: uuid.UUID) -> MetadataOut:
    async with session(principal) as db:
        return await _metadata(db, principal, node_id)


@router.patch(
    "/nodes/{node_id}/metadata",
    response_model=MetadataOut,
    responses=errors(400),
    summary="Change what is given (the rest stays)",
)
async def change_metadata(principal: CurrentPrincipal, node_id: uuid.UUID, body: MetadataIn) -> MetadataOut:
    async with session(principal, write=True) as db:
        if body.description is not None:
            await service.set_description(db, principal, node_id, body.description)
        if body.tags is not None:
            await service.set_tags(db, principal, node_id, body.tags)
        if body.values is not None:
            await service.set_field_values(db, principal, node_id, body.values)
        if body.favourite is not None:
            await service.set_favourite(db, principal, node_id, body.favourite)
        await db.commit()
        return await _metadata(db, principal, node_id)


class FieldIn(BaseModel):
    """A field; a choice field names at least one choice (stated in the schema too)."""

    model_config = ConfigDict(
        json_schema_extra={
            "if": {"properties": {"kind": {"const": "choice"}}, "required": ["kind"]},
            "then": {"properties": {"choices": {"minItems": 1}}, "required": ["choices"]},
        }
    )

    label: line(100)  # type: ignore[valid-type]
    kind: Literal["text", "number", "date", "choice"] = "text"
    choices: list[line(200)] = Field(default_factory=list, max_length=100)  # type: ignore[valid-type]

    @model_validator(mode="after")
    def _choices_for_a_choice(self) -> FieldIn:
        if self.kind == "choice" and not self.choices:
            raise ValueError("a choice field needs at least one choice")
        return self


@router.get("/drives/{drive_id}/fields", response_model=list[FieldOut], summary="A space drive's custom fields")
async def list_fields(principal: CurrentPrincipal, drive_id: uuid.UUID) -> list[FieldOut]:
    async with session(principal) as db:
        return [_field_out(f) for f in await service.fields(db, principal, drive_id)]


@router.post(
    "/drives/{drive_id}/fields",
    response_model=FieldOut,
    status_code=201,
    responses=errors(400, 409),
    summary="Define a custom field (the space's managers; 409 on a personal drive)",
)
async def define_field(principal: CurrentPrincipal, drive_id: uuid.UUID, body: FieldIn) -> FieldOut:
    async with session(principal, write=True) as db:
        if (await service.drive(db, principal, drive_id)).kind != "space":  # the drive's kind conflicts
            raise Conflict(_("Custom fields belong to a space's drive."))
        made = await service.define_field(db, principal, drive_id, body.label, body.kind, body.choices)
        await db.commit()
    return _field_out(made)


@router.delete("/fields/{field_id}", status_code=204, summary="Remove a custom field and its values")
async def remove_field(principal: CurrentPrincipal, field_id: uuid.UUID) -> Response:
    async with session(principal, write=True) as db:
        await service.remove_field(db, principal, field_id)
        await db.commit()
    return Response(status_code=204)


@router.get("/favourites", response_model=list[NodeOut], summary="The caller's favourite files and folders")
async def list_favourites(principal: CurrentPrincipal) -> list[NodeOut]:
    async with session(principal) as db:
        return [NodeOut.of(n) for n in await service.favourites(db, principal)]


@router.get("/recent", response_model=list[NodeOut], summary="The files the caller opened or wrote lately")
async def list_recent(principal: CurrentPrincipal) -> list[NodeOut]:
    async with session(principal) as db:
        return [NodeOut.of(n) for n in await service.recent(db, principal)]


@router.get("/shared", response_model=list[NodeOut], summary="What others shared with the caller")
async def list_shared(principal: CurrentPrincipal) -> list[NodeOut]:
    async with session(principal) as db:
        return [NodeOut.of(n) for n in await service.shared_with_me(db, principal)]


class ShareOut(BaseModel):
    id: uuid.UUID
    user_id: uuid.UUID | None
    group_id: uuid.UUID | None
    space_id: uuid.UUID | None
    role: str = Field(description="reader, editor or manager.")
    created_at: datetime


class ShareIn(BaseModel):
    """Exactly one grantee."""

    user_id: uuid.UUID | None = None
    group_id: uuid.UUID | None = None
    space_id: uuid.UUID | None = None
    role: Literal["reader", "editor", "manager"] = "reader"


def _share_out(s: service.ShareInfo) -> ShareOut:
    return ShareOut(
        id=s.id, user_id=s.user_id, group_id=s.group_id, space_id=s.space_id, role=s.role, created_at=s.created_at
    )


@router.get("/nodes/{node_id}/shares", response_model=list[ShareOut], summary="The shares made on a node")
async def list_shares(principal: CurrentPrincipal, node_id: uuid.UUID) -> list[ShareOut]:
    async with session(principal) as db:
        return [_share_out(s) for s in await service.shares(db, principal, node_id)]


@router.post(
    "/nodes/{node_id}/shares",
    response_model=ShareOut,
    status_code=201,
    responses=errors(400),
    summary="Share a node with a user, a group or a space (sharing again changes the role)",
)
async def add_share(principal: CurrentPrincipal, node_id: uuid.UUID, body: ShareIn) -> ShareOut:
    async with session(principal, write=True) as db:
        made = await service.share(
            db, principal, node_id, body.role, user_id=body.user_id, group_id=body.group_id, space_id=body.space_id
        )
        await db.commit()
    return _share_out(made)


@router.delete("/shares/{share_id}", status_code=204, summary="Withdraw a share")
async def remove_share(principal: CurrentPrincipal, share_id: uuid.UUID) -> Response:
    async with session(principal, write=True) as db:
        await service.unshare(db, principal, share_id)
        await db.commit()
    return Response(status_code=204)
