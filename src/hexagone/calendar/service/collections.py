"""Calendars and address books: which a principal reaches, creating the ones every user
starts with, and changing or sharing them. Every decision goes through the policy
(:mod:`hexagone.calendar.policy`); pages, CalDAV and the API call these functions."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from hexagone.calendar.models import Access, Collection, CollectionKind, Purpose, Share
from hexagone.calendar.policy import Reach, access_name, granted
from hexagone.core import policy
from hexagone.core.auth import Principal
from hexagone.core.db import utcnow
from hexagone.core.exceptions import Conflict, Invalid, NotFound
from hexagone.core.i18n import _
from hexagone.identity.service import (
    ROLE_GUEST,
    group,
    group_names,
    people_by_ids,
    person,
    person_by_email,
    space_names,
)

DEFAULT_CALENDAR = "agenda"
DEFAULT_ADDRESS_BOOK = "contacts"
_COLOR = re.compile(r"^#[0-9a-fA-F]{6}([0-9a-fA-F]{2})?$")
_SLUG = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")


@dataclass(frozen=True)
class CollectionInfo:
    """A calendar or address book as the principal reaches it (the public face's shape)."""

    id: uuid.UUID
    kind: str
    purpose: str
    owner_id: uuid.UUID | None
    space_id: uuid.UUID | None
    slug: str
    name: str
    description: str
    color: str
    timezone: str
    components: tuple[str, ...]
    capacity: int | None
    sync_seq: int
    access: str  # freebusy, read, write or delegate: what the principal may do
    abilities: dict[str, bool]


def info(principal: Principal, reach: Reach) -> CollectionInfo:
    c = reach.collection
    return CollectionInfo(
        id=c.id,
        kind=c.kind,
        purpose=c.purpose,
        owner_id=c.owner_id,
        space_id=c.space_id,
        slug=c.slug,
        name=c.name,
        description=c.description,
        color=c.color,
        timezone=c.timezone,
        components=tuple(x for x in c.components.split(",") if x),
        capacity=c.capacity,
        sync_seq=c.sync_seq,
        access=access_name(granted(principal, reach)),
        abilities=policy.abilities(principal, reach),
    )


def _not_found() -> str:
    return _("No such calendar or address book.")


async def shared_access(
    db: AsyncSession, principal: Principal, collection_ids: list[uuid.UUID]
) -> dict[uuid.UUID, str]:
    """The highest access the principal's shares (own or through groups) give on each collection."""
    if not collection_ids:
        return {}
    rows = await db.execute(
        select(Share.collection_id, Share.access).where(
            Share.collection_id.in_(collection_ids),
            or_(Share.user_id == principal.user_id, Share.group_id.in_(list(principal.group_ids) or [uuid.uuid4()])),
        )
    )
    best: dict[uuid.UUID, str] = {}
    order = [Access.FREEBUSY, Access.READ, Access.WRITE, Access.DELEGATE]
    for collection_id, access in rows:
        if collection_id not in best or order.index(Access(access)) > order.index(Access(best[collection_id])):
            best[collection_id] = access
    return best


async def reach(db: AsyncSession, principal: Principal, collection_id: uuid.UUID, ability: str = "view") -> Reach:
    """The collection, if the principal may do ``ability`` on it; NotFound / Forbidden otherwise."""
    collection = await db.get(Collection, collection_id)
    if collection is None or collection.org_id != principal.org_id:
        raise NotFound(_not_found())
    shared = await shared_access(db, principal, [collection.id])
    found = Reach(collection, shared.get(collection.id))
    policy.require(principal, found, ability, _not_found())
    return found


async def visible(db: AsyncSession, principal: Principal, kind: str, ability: str = "view") -> list[Reach]:
    """Every collection of ``kind`` the principal may do ``ability`` on: their own, their
    spaces', those shared with them or their groups, and (calendars) the rooms'."""
    shared_ids = select(Share.collection_id).where(
        or_(Share.user_id == principal.user_id, Share.group_id.in_(list(principal.group_ids) or [uuid.uuid4()]))
    )
    candidates = or_(
        Collection.owner_id == principal.user_id,
        Collection.space_id.in_(list(principal.space_ids) or [uuid.uuid4()]),
        Collection.id.in_(shared_ids),
        Collection.purpose.in_([Purpose.RESOURCE, Purpose.DIRECTORY]),
    )
    rows = list(
        (
            await db.execute(
                select(Collection)
                .where(Collection.kind == kind, candidates)
                .order_by(Collection.purpose, Collection.name)
            )
        ).scalars()
    )
    shares = await shared_access(db, principal, [c.id for c in rows])
    found = [Reach(c, shares.get(c.id)) for c in rows]
    return [r for r in found if policy.abilities(principal, r).get(ability)]


async def ensure_defaults(db: AsyncSession, principal: Principal) -> None:
    """Give a member their first calendar and address book (guests have none of their own),
    and each of their spaces its calendar. Idempotent; the caller commits."""
    if principal.is_guest:
        await _ensure_space_calendars(db, principal)
        await db.flush()
        return
    have = set(
        (
            await db.execute(
                select(Collection.kind).where(
                    Collection.owner_id == principal.user_id, Collection.purpose == Purpose.PERSONAL
                )
            )
        ).scalars()
    )
    if CollectionKind.CALENDAR not in have:
        db.add(_new(principal, CollectionKind.CALENDAR, DEFAULT_CALENDAR, _("Agenda")))
    if CollectionKind.ADDRESS_BOOK not in have:
        db.add(_new(principal, CollectionKind.ADDRESS_BOOK, DEFAULT_ADDRESS_BOOK, _("Contacts"), components=""))
    await _ensure_space_calendars(db, principal)
    await db.flush()


async def _ensure_space_calendars(db: AsyncSession, principal: Principal) -> None:
    """Every space the principal belongs to has its shared calendar (the first member
    who comes by creates it; its members write in it, readers and guests read)."""
    if not principal.space_ids:
        return
    existing = select(Collection.space_id).where(
        Collection.space_id.in_(list(principal.space_ids)), Collection.kind == CollectionKind.CALENDAR
    )
    missing = set(principal.space_ids) - set((await db.execute(existing)).scalars())
    for space_id, name in (await space_names(db, missing)).items():
        db.add(
            Collection(
                org_id=principal.org_id,
                kind=CollectionKind.CALENDAR,
                purpose=Purpose.SPACE,
                space_id=space_id,
                slug=DEFAULT_CALENDAR,
                name=name,
            )
        )


def _new(principal: Principal, kind: str, slug: str, name: str, components: str = "VEVENT,VTODO") -> Collection:
    return Collection(
        org_id=principal.org_id,
        kind=kind,
        purpose=Purpose.PERSONAL,
        owner_id=principal.user_id,
        slug=slug,
        name=name,
        components=components,
    )


async def create(
    db: AsyncSession,
    principal: Principal,
    kind: str,
    *,
    name: str,
    slug: str | None = None,
    color: str = "#3465a4",
    description: str = "",
    components: tuple[str, ...] = ("VEVENT", "VTODO"),
) -> CollectionInfo:
    """A new personal calendar or address book (MKCALENDAR, the web's "new calendar")."""
    if principal.is_guest:
        raise Invalid(_("Guests have no calendars of their own."))
    if kind not in (CollectionKind.CALENDAR, CollectionKind.ADDRESS_BOOK):
        raise Invalid(_("Unknown kind of collection."))
    slug = slug or uuid.uuid4().hex
    if not _SLUG.match(slug):
        raise Invalid(_("A collection name is made of letters, digits, dots, dashes and underscores."))
    taken = await db.scalar(
        select(Collection.id).where(
            Collection.owner_id == principal.user_id, Collection.kind == kind, Collection.slug == slug
        )
    )
    if taken is not None:
        raise Conflict(_("A calendar or address book already has this name."))
    collection = _new(
        principal, kind, slug, _clean_name(name), ",".join(components) if kind == CollectionKind.CALENDAR else ""
    )
    collection.color = _clean_color(color)
    collection.description = description[:2000]
    db.add(collection)
    await db.flush()
    return info(principal, Reach(collection))


async def change(
    db: AsyncSession,
    principal: Principal,
    collection_id: uuid.UUID,
    *,
    name: str | None = None,
    color: str | None = None,
    description: str | None = None,
    timezone: str | None = None,
    transparent: bool | None = None,
) -> CollectionInfo:
    """Rename, recolour or describe a collection (PROPPATCH, the web's settings);
    ``transparent``: its events leave its owner free (RFC 6638 schedule-calendar-transp)."""
    found = await reach(db, principal, collection_id, "manage")
    collection = found.collection
    if name is not None:
        collection.name = _clean_name(name)
    if color is not None:
        collection.color = _clean_color(color)
    if description is not None:
        collection.description = description[:2000]
    if timezone is not None:
        collection.timezone = timezone[:64]
    if transparent is not None:
        collection.transparent = transparent
    collection.updated_at = utcnow()
    await db.flush()
    return info(principal, found)


async def remove(db: AsyncSession, principal: Principal, collection_id: uuid.UUID) -> None:
    """Delete a collection and everything in it (DELETE on the collection)."""
    found = await reach(db, principal, collection_id, "manage")
    await db.delete(found.collection)
    await db.flush()


@dataclass(frozen=True)
class ShareInfo:
    """Who else reaches a collection: a member or a group, named, and with what access."""

    user_id: uuid.UUID | None
    group_id: uuid.UUID | None
    label: str
    access: str


async def shares_of(db: AsyncSession, principal: Principal, collection_id: uuid.UUID) -> list[ShareInfo]:
    """The shares of one's collection, groups first, by name."""
    await reach(db, principal, collection_id, "share")
    rows = list((await db.execute(select(Share).where(Share.collection_id == collection_id))).scalars())
    people = await people_by_ids(db, [r.user_id for r in rows if r.user_id])
    groups = await group_names(db, [r.group_id for r in rows if r.group_id])
    found = [
        ShareInfo(
            r.user_id,
            r.group_id,
            groups.get(r.group_id, "") if r.group_id else (people[r.user_id].email if r.user_id in people else ""),
            r.access,
        )
        for r in rows
    ]
    return sorted(found, key=lambda s: (s.user_id is not None, s.label.lower()))


async def share(
    db: AsyncSession,
    principal: Principal,
    collection_id: uuid.UUID,
    *,
    user_id: uuid.UUID | None = None,
    group_id: uuid.UUID | None = None,
    access: str = Access.READ,
) -> None:
    """Give a member or a group of the organisation access to one's collection; a second
    share to the same grantee replaces the first."""
    found = await reach(db, principal, collection_id, "share")
    if (user_id is None) == (group_id is None):
        raise Invalid(_("Share with one user or one group."))
    if access not in set(Access):
        raise Invalid(_("Unknown access level."))
    if user_id is not None:
        grantee = await person(db, user_id)  # the session is the organisation's: others are None
        if grantee is None or not grantee.is_active or grantee.role == ROLE_GUEST or grantee.id == principal.user_id:
            raise Invalid(_("Share with another member of the organisation."))
    if group_id is not None:
        await group(db, group_id)  # NotFound outside the organisation
    existing = await db.scalar(
        select(Share).where(Share.collection_id == collection_id, Share.user_id == user_id, Share.group_id == group_id)
    )
    if existing is None:
        db.add(
            Share(
                org_id=found.collection.org_id,
                collection_id=collection_id,
                user_id=user_id,
                group_id=group_id,
                access=access,
            )
        )
    else:
        existing.access = access
    await db.flush()


async def share_with_address(
    db: AsyncSession, principal: Principal, collection_id: uuid.UUID, address: str, access: str
) -> None:
    """Share with the member whose address this is (the pages' and the API's way)."""
    grantee = await person_by_email(db, address)
    if grantee is None or grantee.org_id != principal.org_id:
        raise Invalid(_("No member of the organisation has this address."))
    await share(db, principal, collection_id, user_id=grantee.id, access=access)


async def unshare(
    db: AsyncSession,
    principal: Principal,
    collection_id: uuid.UUID,
    *,
    user_id: uuid.UUID | None = None,
    group_id: uuid.UUID | None = None,
) -> None:
    await reach(db, principal, collection_id, "share")
    if (user_id is None) == (group_id is None):
        raise Invalid(_("Share with one user or one group."))
    query = select(Share).where(
        Share.collection_id == collection_id, Share.user_id == user_id, Share.group_id == group_id
    )
    for row in (await db.execute(query)).scalars():
        await db.delete(row)
    await db.flush()


async def next_seq(db: AsyncSession, collection_id: uuid.UUID) -> int:
    """The collection's next change number, taken atomically (two writers never share one)."""
    seq = await db.scalar(
        update(Collection)
        .where(Collection.id == collection_id)
        .values(sync_seq=Collection.sync_seq + 1, updated_at=utcnow())
        .returning(Collection.sync_seq)
    )
    assert seq is not None
    return int(seq)


def _clean_name(name: str) -> str:
    name = " ".join(name.split())[:200]
    if not name:
        raise Invalid(_("Give the calendar or address book a name."))
    return name


def _clean_color(color: str) -> str:
    if not _COLOR.match(color):
        raise Invalid(_("A colour is written #rrggbb."))
    return color
