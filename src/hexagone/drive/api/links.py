"""A node's public links through the API: list them, make one (its address is in the
answer, the only time it is given: only its hash is kept), revoke one. The same service
functions and rules as the links page (the ``share`` ability; never a guest; every
change audited)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field

from hexagone.core.api import CurrentPrincipal, Text, session
from hexagone.core.config import get_settings
from hexagone.drive import service
from hexagone.drive.api.common import errors

router = APIRouter(tags=["drive"])


class LinkOut(BaseModel):
    id: uuid.UUID
    node_id: uuid.UUID
    mode: str = Field(description="view (see and download) or upload (a file drop: send files, see nothing).")
    hint: str = Field(description="The first characters of the link's token, to tell links apart.")
    has_password: bool
    expires_at: datetime | None
    created_at: datetime
    created_by: uuid.UUID | None
    revoked_at: datetime | None
    active: bool
    opened: int
    downloads: int
    uploads: int
    last_used_at: datetime | None


class LinkIn(BaseModel):
    mode: Literal["view", "upload"] = "view"
    password: Annotated[Text, Field(max_length=200)] = Field(
        default="", description="Empty for none; otherwise 10 to 200 characters."
    )
    expires_at: datetime | None = Field(default=None, description="When the link stops working; in the future.")


class NewLinkOut(BaseModel):
    link: LinkOut
    url: str = Field(description="The link's address: given once, now; only its hash is kept.")


def _out(link: service.LinkInfo) -> LinkOut:
    return LinkOut(
        id=link.id,
        node_id=link.node_id,
        mode=link.mode,
        hint=link.hint,
        has_password=link.has_password,
        expires_at=link.expires_at,
        created_at=link.created_at,
        created_by=link.created_by,
        revoked_at=link.revoked_at,
        active=link.active,
        opened=link.opened,
        downloads=link.downloads,
        uploads=link.uploads,
        last_used_at=link.last_used_at,
    )


def _ip(request: Request) -> str:
    return request.client.host if request.client else ""


@router.get("/nodes/{node_id}/links", response_model=list[LinkOut], summary="The public links made to a node")
async def list_links(principal: CurrentPrincipal, node_id: uuid.UUID) -> list[LinkOut]:
    async with session(principal) as db:
        return [_out(link) for link in await service.node_links(db, principal, node_id)]


@router.post(
    "/nodes/{node_id}/links",
    response_model=NewLinkOut,
    status_code=201,
    responses=errors(400),
    summary="Make a public link to a node (its address is given in this answer only)",
)
async def create_link(principal: CurrentPrincipal, node_id: uuid.UUID, body: LinkIn, request: Request) -> NewLinkOut:
    async with session(principal, write=True) as db:
        made = await service.create_link(
            db,
            principal,
            node_id,
            mode=body.mode,
            password=body.password,
            expires_at=body.expires_at,
            ip=_ip(request),
        )
        await db.commit()
    url = get_settings().resolved_base_url + service.link_path(made.token)
    return NewLinkOut(link=_out(made.link), url=url)


@router.delete("/links/{link_id}", status_code=204, summary="Revoke a public link: its next use is refused")
async def revoke_link(principal: CurrentPrincipal, link_id: uuid.UUID, request: Request) -> Response:
    async with session(principal, write=True) as db:
        await service.revoke_link(db, principal, link_id, ip=_ip(request))
        await db.commit()
    return Response(status_code=204)
