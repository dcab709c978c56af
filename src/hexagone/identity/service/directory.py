"""The directory other modules read: people, organisations, their domains and groups.

Other modules may not import identity's models (the layering rule): they read these
tables through here, as plain frozen dataclasses, so that what they depend on is one
short, deliberate list and no ORM row (with its lazy loads and writable columns) leaves
identity. A join another module needs against these tables is a function here.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from hexagone.core.auth import Principal
from hexagone.core.db import like_escape
from hexagone.core.exceptions import NotFound
from hexagone.core.i18n import gettext as _
from hexagone.identity.models import Domain, Group, GroupMember, Organisation, OrgRole, Space, SpaceMember, User

ROLE_ADMIN = OrgRole.ADMIN.value
ROLE_USER = OrgRole.USER.value
ROLE_GUEST = OrgRole.GUEST.value


@dataclass(frozen=True)
class Person:
    """A user as other modules see them: who they are, never their secrets."""

    id: uuid.UUID
    org_id: uuid.UUID
    email: str
    display_name: str
    role: str
    locale: str | None
    is_active: bool

    @classmethod
    def signed_in(cls, principal: Principal) -> Person:
        """The person ``principal`` stands for, without a query: a principal is the user
        as of the request, an active one (the core's principal cache drops it at any
        change to the user)."""
        return cls(
            id=principal.user_id,
            org_id=principal.org_id,
            email=principal.email,
            display_name=principal.display_name,
            role=principal.role,
            locale=principal.locale,
            is_active=True,
        )

    @property
    def is_guest(self) -> bool:
        return self.role == ROLE_GUEST

    @property
    def is_admin(self) -> bool:
        return self.role == ROLE_ADMIN


@dataclass(frozen=True)
class OrgInfo:
    id: uuid.UUID
    name: str
    default_locale: str
    modules: tuple[str, ...]


@dataclass(frozen=True)
class GroupInfo:
    id: uuid.UUID
    org_id: uuid.UUID
    name: str
    description: str


def as_person(user: User) -> Person:
    return Person(user.id, user.org_id, user.email, user.display_name, user.role, user.locale, user.is_active)


def as_org_info(org: Organisation) -> OrgInfo:
    return OrgInfo(org.id, org.name, org.default_locale, tuple(org.modules or ()))


def _group_info(group: Group) -> GroupInfo:
    return GroupInfo(group.id, group.org_id, group.name, group.description)


async def person(db: AsyncSession, user_id: uuid.UUID) -> Person | None:
    user = await db.get(User, user_id)
    return as_person(user) if user is not None else None


async def person_by_email(db: AsyncSession, email: str) -> Person | None:
    user = (await db.execute(select(User).where(User.email == email.strip().lower()))).scalar_one_or_none()
    return as_person(user) if user is not None else None


async def people_by_ids(db: AsyncSession, ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, Person]:
    wanted = set(ids)
    if not wanted:
        return {}
    users = (await db.execute(select(User).where(User.id.in_(wanted)))).scalars()
    return {user.id: as_person(user) for user in users}


async def people_by_handles(db: AsyncSession, handles: Iterable[str]) -> dict[str, Person]:
    """The active people of the session's organisation that ``@handle`` names in a
    chat message: their whole address, or the part before the ``@`` when only one
    person's address starts so. Handles are compared in lower case."""
    wanted = {handle.lower() for handle in handles if handle}
    if not wanted:
        return {}
    local = [handle for handle in wanted if "@" not in handle]
    conditions = [User.email.in_(wanted)] + [User.email.like(f"{like_escape(h)}@%", escape="\\") for h in local]
    found: dict[str, list[User]] = {}
    for user in (await db.execute(select(User).where(User.is_active.is_(True), or_(*conditions)))).scalars():
        found.setdefault(user.email, []).append(user)
        found.setdefault(user.email.split("@", 1)[0], []).append(user)
    return {handle: as_person(users[0]) for handle in wanted if len(users := found.get(handle, [])) == 1}


async def share_a_space(db: AsyncSession, user_id: uuid.UUID, others: Iterable[uuid.UUID]) -> set[uuid.UUID]:
    """Those of ``others`` who are members of at least one space with ``user_id``: whom
    a guest may write to, and who may write to a guest."""
    wanted = set(others)
    if not wanted:
        return set()
    mine = select(SpaceMember.space_id).where(SpaceMember.user_id == user_id)
    stmt = select(SpaceMember.user_id).where(SpaceMember.space_id.in_(mine), SpaceMember.user_id.in_(wanted))
    return set((await db.execute(stmt)).scalars())


async def people_matching(db: AsyncSession, org_id: uuid.UUID, query: str, limit: int = 10) -> list[Person]:
    """Active members (not guests) whose name or address contains ``query``: address
    completion in the webmail."""
    pattern = f"%{query.strip().lower()}%"
    result = await db.execute(
        select(User)
        .where(
            User.org_id == org_id,
            User.is_active.is_(True),
            User.role != OrgRole.GUEST,
            or_(User.email.ilike(pattern), User.display_name.ilike(pattern)),
        )
        .order_by(User.display_name)
        .limit(limit)
    )
    return [as_person(user) for user in result.scalars()]


async def members(db: AsyncSession, *, include_guests: bool = False) -> list[Person]:
    """The active people of the session's organisation (the session is org-scoped), by address."""
    stmt = select(User).where(User.is_active.is_(True)).order_by(User.email)
    if not include_guests:
        stmt = stmt.where(User.role != OrgRole.GUEST)
    return [as_person(user) for user in (await db.execute(stmt)).scalars()]


async def group_members(db: AsyncSession, group_id: uuid.UUID) -> list[Person]:
    """Everyone in the group, active or not, guests included, by address: the caller
    decides whom it counts."""
    stmt = select(User).join(GroupMember, GroupMember.user_id == User.id).where(GroupMember.group_id == group_id)
    return [as_person(user) for user in (await db.execute(stmt.order_by(User.email))).scalars()]


async def org_groups(db: AsyncSession) -> list[GroupInfo]:
    """The session's organisation's groups, by name (``groups`` is identity's submodule)."""
    return [_group_info(group) for group in (await db.execute(select(Group).order_by(Group.name))).scalars()]


async def group(db: AsyncSession, group_id: uuid.UUID) -> GroupInfo:
    found = await db.get(Group, group_id)
    if found is None:
        raise NotFound(_("No such group."))
    return _group_info(found)


async def group_names(db: AsyncSession, ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, str]:
    wanted = set(ids)
    if not wanted:
        return {}
    return dict((await db.execute(select(Group.id, Group.name).where(Group.id.in_(wanted)))).tuples().all())


async def space_names(db: AsyncSession, ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, str]:
    """The names of the spaces among ``ids`` that are not archived (a module's things per space)."""
    wanted = set(ids)
    if not wanted:
        return {}
    query = select(Space.id, Space.name).where(Space.id.in_(wanted), Space.archived_at.is_(None))
    return dict((await db.execute(query)).all())


async def space_people(db: AsyncSession, space_id: uuid.UUID, roles: Iterable[str]) -> list[Person]:
    """The active members of a space who hold one of ``roles`` there (its owners and
    managers: whom a module asks about the space's things), by address."""
    stmt = (
        select(User)
        .join(SpaceMember, SpaceMember.user_id == User.id)
        .where(SpaceMember.space_id == space_id, SpaceMember.role.in_(list(roles)), User.is_active.is_(True))
        .order_by(User.email)
    )
    return [as_person(user) for user in (await db.execute(stmt)).scalars()]


async def org_info(db: AsyncSession, org_id: uuid.UUID) -> OrgInfo | None:
    org = await db.get(Organisation, org_id)
    return as_org_info(org) if org is not None else None


async def org_domains(db: AsyncSession) -> list[str]:
    """The domains of the session's organisation, by name."""
    return list((await db.execute(select(Domain.name).order_by(Domain.name))).scalars())


async def org_for_domain(db: AsyncSession, domain: str) -> OrgInfo | None:
    """The organisation a domain belongs to (as typed: any case, spaces or trailing dot).
    Its columns only: every inbound message asks, and loading the row would load its
    domains too."""
    row = (
        await db.execute(
            select(Organisation.id, Organisation.name, Organisation.default_locale, Organisation.modules)
            .join(Domain, Domain.org_id == Organisation.id)
            .where(Domain.name == domain.strip().lower().rstrip("."))
        )
    ).one_or_none()
    return OrgInfo(row.id, row.name, row.default_locale, tuple(row.modules or ())) if row is not None else None
