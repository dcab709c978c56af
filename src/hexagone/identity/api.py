"""Identity's JSON API: who am I, and the people and spaces I can see."""

from __future__ import annotations

import uuid

from fastapi import APIRouter
from pydantic import BaseModel

from hexagone.core.api import CurrentPrincipal
from hexagone.core.db import org_session
from hexagone.identity.service.me import about_me

router = APIRouter(tags=["identity"])


class OrgOut(BaseModel):
    id: uuid.UUID
    name: str
    domains: list[str]
    modules: list[str]


class GroupOut(BaseModel):
    id: uuid.UUID
    name: str


class SpaceOut(BaseModel):
    id: uuid.UUID
    name: str
    role: str | None


class MeOut(BaseModel):
    id: uuid.UUID
    email: str
    name: str
    role: str
    locale: str | None
    mfa_enabled: bool
    organisation: OrgOut
    groups: list[GroupOut]
    spaces: list[SpaceOut]


@router.get("/me", response_model=MeOut, summary="The signed-in user, their organisation, groups and spaces")
async def me(principal: CurrentPrincipal) -> MeOut:
    async with org_session(principal.org_id) as db:
        about = await about_me(db, principal)
    return MeOut(
        id=principal.user_id,
        email=principal.email,
        name=principal.display_name,
        role=principal.role,
        locale=principal.locale,
        mfa_enabled=principal.mfa_enabled,
        organisation=OrgOut(
            id=principal.org_id, name=principal.org_name, domains=about.domains, modules=list(principal.org_modules)
        ),
        groups=[GroupOut(id=g.id, name=g.name) for g in about.groups],
        spaces=[SpaceOut(id=s.id, name=s.name, role=principal.space_roles.get(s.id)) for s in about.spaces],
    )
