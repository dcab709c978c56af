"""The JSON API of the admin console and of spaces: the organisation's users (admins only),
the spaces the caller can see, and their members.

Thin like the pages: each route calls the same service as the page, and a service's error
becomes the same status with the same message (``{"error", "status"}``). Every response a
route can give is declared, so the OpenAPI document is a contract clients can trust.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal, TypeGuard, get_args

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from hexagone.core.api import AdminPrincipal, CurrentPrincipal, error_responses
from hexagone.core.config import get_settings
from hexagone.core.db import org_session
from hexagone.identity.models import OrgRole, Space, SpaceMember, User
from hexagone.identity.service import spaces, tokens, users

router = APIRouter()

OrgRoleName = Literal["admin", "user", "guest"]
SpaceRoleName = Literal["owner", "manager", "member", "reader"]


DESCRIBED = {
    400: "The request is well formed but a value is refused; the message says why.",
    409: "It conflicts with the current state: it already exists, the space is archived, "
    "it would leave a space without owner, the account is disabled.",
}


class AdminUser(BaseModel):
    id: uuid.UUID
    email: str
    name: str
    role: OrgRoleName
    active: bool
    mfa_enabled: bool
    created_at: datetime
    last_login_at: datetime | None

    @classmethod
    def of(cls, user: User) -> AdminUser:
        return cls(
            id=user.id,
            email=user.email,
            name=user.display_name,
            role=OrgRole(user.role).value,
            active=user.is_active,
            mfa_enabled=user.mfa_enabled,
            created_at=user.created_at,
            last_login_at=user.last_login_at,
        )


class NewUser(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # Addresses and names are checked by the service (400 with the reason), as for the pages.
    email: str = Field(
        min_length=3,
        max_length=320,
        json_schema_extra={"format": "email"},
        description="An address in one of the organisation's domains (403 otherwise).",
    )
    name: str = Field(
        max_length=200,
        pattern=r"[^\s\x00-\x1f\x7f]",
        description="Control characters are dropped; something printable must be left.",
    )
    role: Literal["admin", "user"] = "user"
    send_password_link: bool = Field(
        default=False, description="E-mail the person a link to choose their password instead of generating one."
    )


class NewUserResult(BaseModel):
    user: AdminUser
    password: str | None = Field(description="The generated password, returned once; null when a link was e-mailed.")


class SpaceSummary(BaseModel):
    id: uuid.UUID
    name: str
    description: str
    archived: bool
    role: SpaceRoleName | None = Field(
        description="The caller's role in the space; null for an admin who is not in it."
    )


class SpaceMemberOut(BaseModel):
    user_id: uuid.UUID
    email: str
    name: str
    role: SpaceRoleName
    guest: bool

    @classmethod
    def of(cls, member: SpaceMember, user: User) -> SpaceMemberOut:
        return cls(
            user_id=user.id,
            email=user.email,
            name=user.display_name,
            role=member.role,  # type: ignore[arg-type]
            guest=user.is_guest,
        )


class MemberRole(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: SpaceRoleName = "member"


SearchQuery = Annotated[str, Query(max_length=200, description="Part of a name or an address.")]


@router.get(
    "/admin/users",
    response_model=list[AdminUser],
    tags=["admin"],
    responses=error_responses(DESCRIBED, 400),
    summary="The organisation's users, guests included (admins only)",
)
async def list_users(admin: AdminPrincipal, q: SearchQuery = "") -> list[AdminUser]:
    async with org_session(admin.org_id) as db:
        return [AdminUser.of(user) for user in await users.list_users(db, query=q)]


@router.post(
    "/admin/users",
    response_model=NewUserResult,
    status_code=201,
    tags=["admin"],
    responses=error_responses(DESCRIBED, 400, 409),
    summary="Create a user (admins only)",
)
async def create_user(admin: AdminPrincipal, body: NewUser) -> NewUserResult:
    async with org_session(admin.org_id) as db:
        user, password = await users.create_user(
            db,
            org_id=admin.org_id,
            email=body.email,
            display_name=body.name,
            password=None,
            role=OrgRole(body.role),
            actor=admin,
        )
        if body.send_password_link:
            await tokens.send_password_link(
                db, admin, user.id, base_url=get_settings().resolved_base_url, new_account=True
            )
            password = None
        await db.commit()
    return NewUserResult(user=AdminUser.of(user), password=password)


@router.get(
    "/admin/users/{user_id}",
    response_model=AdminUser,
    tags=["admin"],
    responses=error_responses(DESCRIBED),
    summary="One user of the organisation (admins only)",
)
async def get_user(admin: AdminPrincipal, user_id: uuid.UUID) -> AdminUser:
    async with org_session(admin.org_id) as db:
        return AdminUser.of(await users.get_user(db, user_id))


def _is_role_name(role: str | None) -> TypeGuard[SpaceRoleName | None]:
    """A principal's space roles are plain strings (core does not know identity's roles)."""
    return role is None or role in get_args(SpaceRoleName)


def _summary(space: Space, role: str | None) -> SpaceSummary:
    if not _is_role_name(role):
        raise ValueError(f"Unknown space role {role!r}")
    return SpaceSummary(
        id=space.id, name=space.name, description=space.description, archived=space.archived_at is not None, role=role
    )


@router.get(
    "/spaces",
    response_model=list[SpaceSummary],
    tags=["spaces"],
    responses=error_responses(DESCRIBED),
    summary="The spaces the caller can see (a guest: only theirs)",
)
async def list_spaces(principal: CurrentPrincipal) -> list[SpaceSummary]:
    async with org_session(principal.org_id) as db:
        found = await spaces.visible_spaces(db, principal)
    return [_summary(space, principal.space_roles.get(space.id)) for space in found]


@router.get(
    "/spaces/{space_id}",
    response_model=SpaceSummary,
    tags=["spaces"],
    responses=error_responses(DESCRIBED),
    summary="One space the caller can see",
)
async def get_space(principal: CurrentPrincipal, space_id: uuid.UUID) -> SpaceSummary:
    async with org_session(principal.org_id) as db:
        space = await spaces.get_space(db, principal, space_id)
    return _summary(space, principal.space_roles.get(space.id))


@router.get(
    "/spaces/{space_id}/members",
    response_model=list[SpaceMemberOut],
    tags=["spaces"],
    responses=error_responses(DESCRIBED),
    summary="The members of a space the caller can see",
)
async def list_members(principal: CurrentPrincipal, space_id: uuid.UUID) -> list[SpaceMemberOut]:
    async with org_session(principal.org_id) as db:
        space = await spaces.get_space(db, principal, space_id)
        return [SpaceMemberOut.of(member, user) for member, user in await spaces.members(db, space.id)]


@router.put(
    "/spaces/{space_id}/members/{user_id}",
    response_model=SpaceMemberOut,
    tags=["spaces"],
    responses=error_responses(DESCRIBED, 400, 409),
    summary="Add a person to a space, or change their role (space managers)",
)
async def set_member(
    principal: CurrentPrincipal, space_id: uuid.UUID, user_id: uuid.UUID, body: MemberRole
) -> SpaceMemberOut:
    async with org_session(principal.org_id) as db:
        space = await spaces.get_space(db, principal, space_id)
        member = await spaces.add_member(db, principal, space, user_id, body.role)
        user = await users.get_user(db, user_id)
        await db.commit()
    return SpaceMemberOut.of(member, user)


@router.delete(
    "/spaces/{space_id}/members/{user_id}",
    status_code=204,
    response_class=Response,
    tags=["spaces"],
    responses=error_responses(DESCRIBED, 409),
    summary="Remove a person from a space (space managers)",
)
async def remove_member(principal: CurrentPrincipal, space_id: uuid.UUID, user_id: uuid.UUID) -> Response:
    async with org_session(principal.org_id) as db:
        space = await spaces.get_space(db, principal, space_id)
        await spaces.remove_member(db, principal, space, user_id)
        await db.commit()
    return Response(status_code=204)
