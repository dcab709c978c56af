"""The URL layout of the DAV tree, and what a path names for the principal asking.

::

    /calendar/dav/                                   the service root
    /calendar/dav/principals/<user id>/              a user (only one's own is reachable)
    /calendar/dav/calendars/<user id>/               one's calendar home
    /calendar/dav/calendars/<user id>/<segment>/     a calendar in it
    /calendar/dav/calendars/<user id>/<segment>/<name>.ics
    /calendar/dav/addressbooks/<user id>/...         the same for address books

A home lists every collection the principal may view: their own (``<segment>`` is its
slug, chosen by the client at MKCALENDAR), and their spaces', those shared with them or
their groups and the organisation's directory (``<segment>`` is the collection's id).
Homes and principals of anybody else answer 404, as does a collection the principal may
not reach, so that nothing tells whether it exists.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from urllib.parse import quote, unquote

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hexagone.calendar.models import Collection, CollectionKind, Purpose
from hexagone.calendar.policy import Reach
from hexagone.calendar.service import collections
from hexagone.core import policy
from hexagone.core.auth import Principal

ROOT = "/calendar/dav/"
HOMES: dict[str, str] = {"calendars": CollectionKind.CALENDAR, "addressbooks": CollectionKind.ADDRESS_BOOK}
HOME_OF: dict[str, str] = {kind: name for name, kind in HOMES.items()}


@dataclass(frozen=True)
class Target:
    """What a request path names: ``kind`` is root, principal, home, collection or object
    (or missing: a collection or object that could be created there)."""

    kind: str
    path: str
    home: str = ""  # calendars or addressbooks
    segment: str = ""  # a collection's last segment (MKCALENDAR's slug when missing)
    reach: Reach | None = None
    name: str = ""  # an object's name


class NotThere(Exception):
    """Nothing the principal may reach is at this path (answered 404)."""


def principal_path(principal: Principal) -> str:
    return f"{ROOT}principals/{principal.user_id}/"


def home_path(principal: Principal, home: str) -> str:
    return f"{ROOT}{home}/{principal.user_id}/"


SCHEDULE = f"{ROOT}schedule/"  # scheduling inboxes and outboxes (dav/scheduling.py)


def mailbox_path(principal: Principal, kind: str) -> str:
    """The principal's scheduling inbox or outbox (RFC 6638 2.1, 2.2): outside the
    calendar home, so that no calendar's slug can take its name."""
    return f"{SCHEDULE}{principal.user_id}/{kind}/"


def segment_of(principal: Principal, collection: Collection) -> str:
    mine = collection.purpose == Purpose.PERSONAL and collection.owner_id == principal.user_id
    return collection.slug if mine else collection.id.hex


def collection_path(principal: Principal, collection: Collection) -> str:
    return f"{home_path(principal, HOME_OF[collection.kind])}{quote(segment_of(principal, collection))}/"


def object_path(collection_path: str, name: str) -> str:
    return collection_path + quote(name)


async def resolve(db: AsyncSession, principal: Principal, path: str) -> Target:
    """The target of ``path`` (the full request path), or NotThere."""
    if path != ROOT[:-1] and not path.startswith(ROOT):
        raise NotThere
    parts = [unquote(p) for p in path[len(ROOT) :].split("/") if p]
    if not parts:
        return Target("root", ROOT)
    if parts[0] == "principals":
        if len(parts) == 1:
            return Target("principals", f"{ROOT}principals/")
        if len(parts) == 2 and parts[1] == str(principal.user_id):
            return Target("principal", principal_path(principal))
        raise NotThere
    home = parts[0]
    if home not in HOMES or len(parts) < 2 or parts[1] != str(principal.user_id) or len(parts) > 4:
        raise NotThere
    if len(parts) == 2:
        return Target("home", home_path(principal, home), home=home)
    segment = parts[2]
    found = await collection_at(db, principal, HOMES[home], segment)
    if found is None:
        if len(parts) == 3:
            return Target("missing", f"{home_path(principal, home)}{quote(segment)}/", home=home, segment=segment)
        raise NotThere
    base = collection_path(principal, found.collection)
    if len(parts) == 3:
        return Target("collection", base, home=home, segment=segment, reach=found)
    return Target("object", object_path(base, parts[3]), home=home, segment=segment, reach=found, name=parts[3])


async def collection_at(db: AsyncSession, principal: Principal, kind: str, segment: str) -> Reach | None:
    """The collection the principal reaches at ``segment`` of their ``kind`` home, with at
    least the free/busy ability, or None."""
    own = await db.scalar(
        select(Collection).where(
            Collection.owner_id == principal.user_id,
            Collection.purpose == Purpose.PERSONAL,
            Collection.kind == kind,
            Collection.slug == segment,
        )
    )
    if own is not None:
        return Reach(own)
    try:
        collection_id = uuid.UUID(hex=segment)
    except ValueError:
        return None
    collection = await db.get(Collection, collection_id)
    if collection is None or collection.org_id != principal.org_id or collection.kind != kind:
        return None
    shared = await collections.shared_access(db, principal, [collection.id])
    found = Reach(collection, shared.get(collection.id))
    return found if policy.abilities(principal, found).get("freebusy") else None
