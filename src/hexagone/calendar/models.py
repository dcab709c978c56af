"""The calendar module's tables: collections (calendars and address books), the objects
in them (one iCalendar or vCard resource each), what was deleted from them (for
sync-collection), and who else may reach a collection.

A collection is what CalDAV and CardDAV call a collection and what the web calls a
calendar or an address book. Its ``sync_seq`` counts its changes: every write takes the
next number and stamps the object (or the tombstone of a deleted one) with it, so the
changes since a sync token are one indexed range, and the CTag is that number.

An object keeps its resource text as the client sent it (or as the web wrote it) and the
columns a query needs without parsing it: for an event, the span of its first occurrence
and of its last one (``None``: it repeats forever), so a time-range REPORT reads only the
rows that can overlap the range and expands only the recurring ones. Most events are
short, single occurrences (``short_span``): their rows are found by a range of start
times alone (one that ends after a range begins started at most ``SHORT_SPAN`` earlier),
so that a query does not scan every row that started before the range ends.
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime, timedelta

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column

from hexagone.core.db import Base, IdMixin, TimestampMixin, utcnow
from hexagone.core.tenancy import OrgScoped

# The longest span from first start to last end an object may have and still be found by
# its start alone (a week, widened twice by the floating margin of 14 hours, and a day).
SHORT_SPAN = timedelta(days=9)


class CollectionKind(enum.StrEnum):
    CALENDAR = "calendar"
    ADDRESS_BOOK = "addressbook"


class Purpose(enum.StrEnum):
    """Whose a collection is: a user's own, a space's shared one, a room's or equipment's
    agenda, or the organisation's directory (read-only, written by the platform)."""

    PERSONAL = "personal"
    SPACE = "space"
    RESOURCE = "resource"
    DIRECTORY = "directory"


class Access(enum.StrEnum):
    """What a share grants, in increasing order: see free/busy only, read, write, and act
    for the owner (delegation: write, and answer invitations in the owner's name)."""

    FREEBUSY = "freebusy"
    READ = "read"
    WRITE = "write"
    DELEGATE = "delegate"


class Collection(IdMixin, OrgScoped, TimestampMixin, Base):
    """A calendar or an address book. Exactly one of ``owner_id`` (a user's), ``space_id``
    (a space's) is set, or neither for a resource or the directory."""

    __tablename__ = "cal_collections"
    __table_args__ = (UniqueConstraint("org_id", "owner_id", "space_id", "kind", "slug"),)

    kind: Mapped[str] = mapped_column(String(16))
    purpose: Mapped[str] = mapped_column(String(16), default=Purpose.PERSONAL)
    owner_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    space_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("spaces.id", ondelete="CASCADE"), index=True)
    slug: Mapped[str] = mapped_column(String(100))  # the last segment of its URL
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    color: Mapped[str] = mapped_column(String(9), default="#3465a4")
    timezone: Mapped[str] = mapped_column(String(64), default="Europe/Paris")
    components: Mapped[str] = mapped_column(String(40), default="VEVENT,VTODO")  # CalDAV supported set
    capacity: Mapped[int | None] = mapped_column(Integer, default=None)  # rooms: seats
    # A resource's calendar user address: how organisers invite it (ATTENDEE;CUTYPE=ROOM).
    address: Mapped[str] = mapped_column(String(320), default="", index=True)
    resource_kind: Mapped[str] = mapped_column(String(16), default="")  # room or equipment
    subscription_url: Mapped[str] = mapped_column(String(2000), default="")  # an ICS feed it mirrors
    # RFC 6638 9.1 schedule-calendar-transp: its events leave its owner free (free/busy).
    transparent: Mapped[bool] = mapped_column(default=False, server_default=false())
    sync_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class DavObject(IdMixin, OrgScoped, Base):
    """One resource of a collection: an iCalendar object (one UID, its overrides
    included) or a vCard."""

    __tablename__ = "cal_objects"
    __table_args__ = (
        UniqueConstraint("collection_id", "name", name="uq_cal_objects_name"),
        UniqueConstraint("collection_id", "uid", name="uq_cal_objects_uid"),
        Index("ix_cal_objects_sync", "collection_id", "seq"),
        Index("ix_cal_objects_range", "collection_id", "short_span", "starts_at", "ends_at"),
    )

    collection_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cal_collections.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(255))  # the resource's URL segment, e.g. "<uid>.ics"
    uid: Mapped[str] = mapped_column(String(255))
    component: Mapped[str] = mapped_column(String(16))  # VEVENT, VTODO, VJOURNAL, VCARD
    data: Mapped[str] = mapped_column(Text)
    etag: Mapped[str] = mapped_column(String(64))
    # RFC 6638 3.2.10: a scheduling object resource's (ORGANIZER and ATTENDEE) tag, "" for
    # any other. Unlike the ETag it stays when the server only merges an attendee's answer
    # into the organiser's copy, or when an attendee answers in theirs.
    schedule_tag: Mapped[str] = mapped_column(String(64), default="", server_default="")
    seq: Mapped[int] = mapped_column(BigInteger)  # the collection's sync_seq at its last write
    size: Mapped[int] = mapped_column(Integer)
    # Events and tasks: when the first occurrence starts and the last one ends, in UTC,
    # widened for floating times (None: no date, or repeats forever; a query reads it as
    # unbounded), and whether occurrences must be expanded (or read in a zone) to know which fall in a range.
    starts_at: Mapped[datetime | None] = mapped_column(default=None)
    ends_at: Mapped[datetime | None] = mapped_column(default=None)
    recurring: Mapped[bool] = mapped_column(default=False)
    floating: Mapped[bool] = mapped_column(default=False)  # dates or zoneless times: span widened
    # Both ends known and at most SHORT_SPAN apart: a range query finds it by starts_at alone.
    short_span: Mapped[bool] = mapped_column(default=False, server_default=false())
    # For search and the web without parsing: the summary (events) or the formatted name
    # (contacts), and the e-mail addresses it names (attendees, or a contact's e-mails).
    title: Mapped[str] = mapped_column(String(500), default="")
    emails: Mapped[str] = mapped_column(Text, default="")  # lower-case, one per line
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class Tombstone(IdMixin, OrgScoped, Base):
    """A resource deleted from a collection, kept so that sync-collection reports it."""

    __tablename__ = "cal_tombstones"
    __table_args__ = (Index("ix_cal_tombstones_sync", "collection_id", "seq"),)

    collection_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cal_collections.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(255))
    seq: Mapped[int] = mapped_column(BigInteger)


class Share(IdMixin, OrgScoped, TimestampMixin, Base):
    """A collection reachable by a user or a group besides its owner."""

    __tablename__ = "cal_shares"
    __table_args__ = (UniqueConstraint("collection_id", "user_id", "group_id"),)

    collection_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cal_collections.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    group_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"), index=True)
    access: Mapped[str] = mapped_column(String(16), default=Access.READ)


class ScheduleInbox(OrgScoped, Base):
    """A user's scheduling inbox (RFC 6638 2.2): the counter of its changes, as a
    collection's ``sync_seq``; its sync token names the user. Made at the first message."""

    __tablename__ = "cal_schedule_inboxes"

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    sync_seq: Mapped[int] = mapped_column(BigInteger, default=0)


class InboxMessage(IdMixin, OrgScoped, Base):
    """An iTIP message (RFC 5546) delivered to a user's scheduling inbox (RFC 6638 4.1):
    an invitation, an update, a cancellation or an answer, with its METHOD. Several may
    share a UID. A message the user deleted stays as a tombstone (``deleted``, no text)
    so that sync-collection reports it."""

    __tablename__ = "cal_inbox_messages"
    __table_args__ = (
        UniqueConstraint("user_id", "name", name="uq_cal_inbox_messages_name"),
        Index("ix_cal_inbox_messages_sync", "user_id", "seq"),
    )

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cal_schedule_inboxes.user_id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(255))
    uid: Mapped[str] = mapped_column(String(255))
    method: Mapped[str] = mapped_column(String(16))
    component: Mapped[str] = mapped_column(String(16))
    data: Mapped[str] = mapped_column(Text)
    etag: Mapped[str] = mapped_column(String(64))
    seq: Mapped[int] = mapped_column(BigInteger)
    size: Mapped[int] = mapped_column(Integer)
    deleted: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
