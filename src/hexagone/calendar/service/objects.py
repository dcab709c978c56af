"""The resources of a collection: store one (with ETag preconditions), read, delete,
list, the changes since a sync token, and those that overlap a time range.

Every write takes the collection's next change number (:func:`collections.next_seq`) and
stamps the object, or the tombstone of a deleted one, with it: a sync token is that
number, and the changes since it are one indexed range of each table.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, delete, false, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from hexagone.calendar import ical, vcard
from hexagone.calendar.models import SHORT_SPAN, CollectionKind, DavObject, Tombstone
from hexagone.calendar.policy import Reach
from hexagone.calendar.service.collections import next_seq
from hexagone.core.db import utcnow
from hexagone.core.exceptions import Conflict, Invalid, NotFound, PreconditionFailed
from hexagone.core.i18n import _

MAX_RESOURCE_BYTES = 1024 * 1024  # one event or contact; a 1 MB photo in a vCard is already generous


class Refused(Invalid):
    """A resource the collection cannot store; ``condition`` names the CalDAV / CardDAV
    precondition it fails (RFC 4791 5.3.2.1, RFC 6352 6.3.2.1), for the protocol layer."""

    def __init__(self, message: str, condition: str):
        super().__init__(message)
        self.condition = condition


class UidConflict(Conflict):
    """Another resource of the collection has this UID (``name``: that resource)."""

    def __init__(self, message: str, name: str):
        super().__init__(message)
        self.name = name


@dataclass(frozen=True)
class ObjectEntry:
    """A stored resource as a listing or a sync names it: what its URL, its ETag and its
    properties need, without its id (10,000 UUIDs less to read for a sync) or its text."""

    name: str
    uid: str
    component: str
    etag: str
    seq: int
    size: int
    title: str
    recurring: bool
    schedule_tag: str  # RFC 6638 3.2.10; "" when it is not a scheduling object resource


@dataclass(frozen=True)
class ObjectInfo(ObjectEntry):
    """A stored resource without its text: with its id, for the pages and the jobs."""

    id: uuid.UUID
    collection_id: uuid.UUID


@dataclass(frozen=True)
class StoredObject(ObjectInfo):
    data: str


@dataclass(frozen=True)
class Changes:
    """What changed in a collection after a sync token: resources written (with their
    ETags) and names deleted, and the token to ask with next time."""

    changed: list[ObjectEntry]
    deleted: list[str]
    token: int
    truncated: bool = False  # more changes follow the token: ask again from it


def _info(row: DavObject) -> ObjectInfo:
    return ObjectInfo(
        id=row.id,
        collection_id=row.collection_id,
        name=row.name,
        uid=row.uid,
        component=row.component,
        etag=row.etag,
        seq=row.seq,
        size=row.size,
        title=row.title,
        recurring=row.recurring,
        schedule_tag=row.schedule_tag,
    )


# The columns of an ObjectEntry, in its order: listings, syncs and range queries read them
# as plain rows, without the resource text unless they need it, and without the dates
# (building 10,000 ORM objects, their texts and their dates cost most of a full sync).
_ENTRY_COLUMNS = (
    DavObject.name,
    DavObject.uid,
    DavObject.component,
    DavObject.etag,
    DavObject.seq,
    DavObject.size,
    DavObject.title,
    DavObject.recurring,
    DavObject.schedule_tag,
)


def _stored(row: DavObject) -> StoredObject:
    return StoredObject(**_info(row).__dict__, data=row.data)


def etag_of(data: str) -> str:
    return hashlib.sha256(data.encode()).hexdigest()[:32]


def _indexed(kind: str, data: str, allowed: tuple[str, ...]) -> dict[str, object]:
    """The columns of a resource, or Invalid saying why the text is refused."""
    if len(data.encode()) > MAX_RESOURCE_BYTES:
        raise Refused(
            _("The resource is larger than {size} bytes.").format(size=MAX_RESOURCE_BYTES), "max-resource-size"
        )
    if kind == CollectionKind.ADDRESS_BOOK:
        try:
            card = vcard.inspect(data)
        except vcard.InvalidContactData as exc:
            raise Refused(str(exc), "valid-address-data") from exc
        return {
            "uid": card.uid,
            "component": "VCARD",
            "title": card.name,
            "emails": "\n".join(card.emails),
            "scheduling": False,
        }
    try:
        event = ical.inspect(data)
    except ical.InvalidCalendarData as exc:
        raise Refused(str(exc), "valid-calendar-data") from exc
    if allowed and event.component not in allowed:
        raise Refused(
            _("This calendar does not hold components of type {kind}.").format(kind=event.component),
            "supported-calendar-component",
        )
    if event.method:
        raise Refused(_("A stored calendar object has no METHOD property."), "valid-calendar-object-resource")
    return {
        "timeline": event.timeline,
        "scheduling": event.scheduling,
        "uid": event.uid[:255],
        "component": event.component,
        "title": event.title,
        "emails": "\n".join(event.emails),
        "starts_at": event.starts_at,
        "ends_at": event.ends_at,
        "recurring": event.recurring,
        "floating": event.floating,
        "short_span": event.starts_at is not None
        and event.ends_at is not None
        and event.ends_at - event.starts_at <= SHORT_SPAN,
    }


async def put(
    db: AsyncSession,
    reach: Reach,
    name: str,
    data: str,
    *,
    if_match: str | None = None,
    if_none_match: bool = False,
    if_schedule_tag: str | None = None,
    keep_schedule_tag: bool = False,
) -> tuple[ObjectInfo, bool]:
    """Store ``data`` as the resource ``name`` of the collection; (the object, created).

    ``if_match`` is the ETag the writer last saw (412 when the resource changed since or
    is gone; ``"*"``: any, the resource must exist), ``if_none_match`` asks to create
    only (412 when it exists), ``if_schedule_tag`` the schedule tag the writer last saw
    (RFC 6638 3.2.10 If-Schedule-Tag-Match: 412 when it differs, or the resource is gone
    or is no scheduling object resource). A UID already stored under another name is a
    conflict (RFC 4791 5.3.2.1 no-uid-conflict). The caller has checked the ``write``
    ability and commits.

    A scheduling object resource gets a new schedule tag at each write, but with
    ``keep_schedule_tag``: the write only merges answers (an attendee's into the
    organiser's copy, or their own in theirs), which a client editing it must not take for
    a conflict."""
    collection = reach.collection
    if not name or "/" in name or len(name) > 255:
        raise Invalid(_("Invalid resource name."))
    columns = _indexed(collection.kind, data, tuple(x for x in collection.components.split(",") if x))
    kept = columns.pop("timeline", None)
    row = await db.scalar(select(DavObject).where(DavObject.collection_id == collection.id, DavObject.name == name))
    if if_none_match and row is not None:
        raise PreconditionFailed(_("The resource already exists."))
    if if_match is not None and (row is None or (if_match != "*" and row.etag != if_match)):
        raise PreconditionFailed(_("The resource changed since you read it."))
    _check_schedule_tag(row, if_schedule_tag)
    scheduling = bool(columns.pop("scheduling", False))
    clash = await db.scalar(
        select(DavObject.name).where(
            DavObject.collection_id == collection.id, DavObject.uid == columns["uid"], DavObject.name != name
        )
    )
    if clash is not None:
        raise UidConflict(_("Another resource of this collection has the same UID: {name}").format(name=clash), clash)
    seq = await next_seq(db, collection.id)
    created = row is None
    if row is None:
        row = DavObject(org_id=collection.org_id, collection_id=collection.id, name=name)
        db.add(row)
    for key in ("starts_at", "ends_at"):
        setattr(row, key, None)
    row.recurring = row.floating = row.short_span = False
    for key, value in columns.items():
        setattr(row, key, value)
    row.data = data
    row.etag = etag_of(data)
    if not scheduling:
        row.schedule_tag = ""
    elif not (keep_schedule_tag and row.schedule_tag):
        row.schedule_tag = uuid.uuid4().hex
    if row.recurring or row.floating:
        ical.keep_timeline(row.etag, kept if isinstance(kept, ical.Timeline) else None)  # for time-range queries
    row.size = len(data.encode())
    row.seq = seq
    row.updated_at = utcnow()
    await db.flush()
    return _info(row), created


def _check_schedule_tag(row: DavObject | None, expected: str | None) -> None:
    """RFC 6638 3.2.10: If-Schedule-Tag-Match fails on another tag, on a resource that
    has none (no scheduling object resource) and on one that is not there."""
    if expected is not None and (row is None or not row.schedule_tag or row.schedule_tag != expected):
        raise PreconditionFailed(_("The event changed for its attendees since you read it."))


async def get(db: AsyncSession, reach: Reach, name: str) -> StoredObject:
    row = await db.scalar(
        select(DavObject).where(DavObject.collection_id == reach.collection.id, DavObject.name == name)
    )
    if row is None:
        raise NotFound(_("No such resource."))
    return _stored(row)


async def current_tags(db: AsyncSession, reach: Reach, name: str) -> tuple[str, str] | None:
    """The ETag and the schedule tag of the resource ``name`` as stored now (None: there
    is none), without its text."""
    found = (
        await db.execute(
            select(DavObject.etag, DavObject.schedule_tag).where(
                DavObject.collection_id == reach.collection.id, DavObject.name == name
            )
        )
    ).first()
    return None if found is None else (found[0], found[1])


async def by_uid(db: AsyncSession, reach: Reach, uid: str) -> StoredObject | None:
    row = await db.scalar(select(DavObject).where(DavObject.collection_id == reach.collection.id, DavObject.uid == uid))
    return None if row is None else _stored(row)


async def remove(
    db: AsyncSession, reach: Reach, name: str, *, if_match: str | None = None, if_schedule_tag: str | None = None
) -> None:
    """Delete a resource, leaving a tombstone for sync (``if_match``, ``if_schedule_tag``
    as for :func:`put`). The caller checked ``write`` and commits."""
    row = await db.scalar(
        select(DavObject).where(DavObject.collection_id == reach.collection.id, DavObject.name == name)
    )
    if row is None:
        raise NotFound(_("No such resource."))
    if if_match is not None and if_match != "*" and row.etag != if_match:
        raise PreconditionFailed(_("The resource changed since you read it."))
    _check_schedule_tag(row, if_schedule_tag)
    seq = await next_seq(db, reach.collection.id)
    await db.delete(row)
    db.add(Tombstone(org_id=reach.collection.org_id, collection_id=reach.collection.id, name=name, seq=seq))
    await db.flush()


async def listing(db: AsyncSession, reach: Reach) -> list[ObjectEntry]:
    rows = await db.execute(
        select(*_ENTRY_COLUMNS).where(DavObject.collection_id == reach.collection.id).order_by(DavObject.name)
    )
    return [ObjectEntry(*row) for row in rows]


async def many(db: AsyncSession, reach: Reach, names: list[str]) -> list[StoredObject]:
    """The named resources that exist (calendar-multiget, addressbook-multiget)."""
    if not names:
        return []
    rows = await db.execute(
        select(DavObject).where(DavObject.collection_id == reach.collection.id, DavObject.name.in_(names))
    )
    return [_stored(r) for r in rows.scalars()]


async def changes(db: AsyncSession, reach: Reach, since: int, limit: int | None = None) -> Changes:
    """What changed after the token ``since`` (0: everything there is), in the order of the
    changes. With ``limit``, at most that many, and the token of the last one given (the
    client asks again from there: RFC 6578 3.6). A token from the future is refused (RFC
    6578 3.2 valid-sync-token)."""
    token = reach.collection.sync_seq
    if since < 0 or since > token:
        raise Invalid(_("Unknown sync token."))
    written = select(*_ENTRY_COLUMNS).where(DavObject.collection_id == reach.collection.id, DavObject.seq > since)
    written = written.order_by(DavObject.seq)
    if limit is not None:
        written = written.limit(limit + 1)
    events: list[tuple[int, ObjectEntry | str]] = []
    for row in await db.execute(written):
        entry = ObjectEntry(*row)
        events.append((entry.seq, entry))
    if since:
        gone = select(Tombstone.seq, Tombstone.name).where(
            Tombstone.collection_id == reach.collection.id, Tombstone.seq > since
        )
        gone = gone.order_by(Tombstone.seq)
        if limit is not None:
            gone = gone.limit(limit + 1)
        events += [(seq, name) for seq, name in await db.execute(gone)]
        events.sort(key=lambda e: e[0])
    truncated = limit is not None and len(events) > limit
    if truncated:
        events = events[:limit]
        token = events[-1][0] if events else since
    changed = [e for _seq, e in events if isinstance(e, ObjectEntry)]
    present = {c.name for c in changed}
    deleted = sorted({e for _seq, e in events if isinstance(e, str) and e not in present})
    return Changes(changed=changed, deleted=deleted, token=token, truncated=truncated)


async def overlapping(
    db: AsyncSession, reach: Reach, start: datetime | None, end: datetime | None, *, component: str | None = None
) -> list[StoredObject]:
    """The resources with an occurrence overlapping [start, end) (RFC 4791 9.9): the
    index gives the candidates, and recurring ones are expanded to be sure.

    Two ranges of the index: the short objects (``short_span``) by their start alone,
    which began at most ``SHORT_SPAN`` before the range; the others (recurring, long,
    endless, undated: a tenth of a calendar or less) by both ends. One range over every
    row would read all those that started before the range ends: half the calendar."""
    query = select(*_ENTRY_COLUMNS, DavObject.id, DavObject.floating, DavObject.data).where(
        DavObject.collection_id == reach.collection.id
    )
    if component:
        query = query.where(DavObject.component == component)
    if start is None and end is None:
        queries = [query]
    else:
        short = query.where(DavObject.short_span == true())
        long = query.where(DavObject.short_span == false())
        if end is not None:
            short = short.where(DavObject.starts_at < end)
            long = long.where(or_(DavObject.starts_at.is_(None), DavObject.starts_at < end))
        if start is not None:
            short = short.where(DavObject.starts_at >= start - SHORT_SPAN, DavObject.ends_at > start)
            long = long.where(
                or_(DavObject.starts_at.is_(None), DavObject.ends_at.is_(None), DavObject.ends_at > start)
            )
        queries = [short, long]
    collection_id = reach.collection.id
    found = []
    for each in queries:
        for row in await db.execute(each.order_by(DavObject.starts_at)):
            name, uid, kind, etag, seq, size, title, recurring, tag, object_id, floating, data = row
            if (
                (recurring or floating)
                and start is not None
                and end is not None
                and not ical.overlaps_by_etag(etag, data, start, end)
            ):
                continue
            found.append(
                StoredObject(name, uid, kind, etag, seq, size, title, recurring, tag, object_id, collection_id, data)
            )
    return found


async def forget_tombstones(db: AsyncSession, reach: Reach, before: int) -> None:
    """Drop tombstones older than the change ``before``: a client holding an older token
    must then sync from scratch (the collection answers it with a fresh token)."""
    await db.execute(
        delete(Tombstone).where(and_(Tombstone.collection_id == reach.collection.id, Tombstone.seq < before))
    )
