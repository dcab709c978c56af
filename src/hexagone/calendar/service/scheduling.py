"""Implicit scheduling (RFC 6638 section 3): what follows when an organiser writes an
event with attendees, or an attendee answers, whichever way they wrote it (CalDAV, the
web, the API).

- Attendees of the organisation get the organiser's event in their own calendar at once,
  kept in step with it, and a notification; everyone else (and, as an e-mail too, the
  organisation's own attendees) gets an iMIP message (RFC 6047) sent as the organiser.
- An attendee who changes their participation status answers the organiser: in the
  organiser's calendar when the organiser is one of ours, by an iMIP REPLY otherwise.
- Rooms and equipment invited answer at once (:mod:`.resources`): accepted when free,
  declined on a conflict, written into the organiser's event.
- Messages that arrive by mail (:func:`on_calendar_mail`): a REPLY from an outside
  attendee updates the organiser's event; a REQUEST or CANCEL from an outside organiser
  lands in the recipient's calendar.

Mail goes out through a job enqueued in the writer's transaction: nothing is sent for a
write that did not commit, and a message the relay could not take is tried again.
"""

from __future__ import annotations

import logging
import re
import uuid
from typing import Any

import icalendar
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hexagone.calendar import ical
from hexagone.calendar.models import Collection, CollectionKind, DavObject, Purpose
from hexagone.calendar.policy import Reach
from hexagone.calendar.service import imip, objects, reminders, resources
from hexagone.calendar.service.collections import DEFAULT_CALENDAR
from hexagone.core import i18n, jobs, notifications
from hexagone.core.auth import Principal
from hexagone.core.db import org_session
from hexagone.core.i18n import _
from hexagone.identity.service import Person, load_principal, person, person_by_email
from hexagone.mail.service import mailbox_owner, submit

log = logging.getLogger("hexagone.calendar.scheduling")
SEND_JOB = "calendar.imip"
# What makes an update worth telling attendees again (RFC 5546 2.1.4: a rescheduling).
SIGNIFICANT = ("DTSTART", "DTEND", "DURATION", "DUE", "RRULE", "RDATE", "EXDATE", "SUMMARY", "LOCATION", "STATUS")


def _components(calendar: icalendar.Calendar) -> list[Any]:
    return [c for c in calendar.subcomponents if c.name in ical.SCHEDULED]


def attendees(calendar: icalendar.Calendar) -> dict[str, str]:
    """Each attendee's address and participation status, from the master component."""
    found = {}
    for attendee in ical.as_list(ical.master(calendar).get("ATTENDEE")):
        if address := ical.mailto_address(attendee):
            found[address] = str(attendee.params.get("PARTSTAT", "NEEDS-ACTION")).upper()
    return found


def organizer(calendar: icalendar.Calendar) -> str:
    return ical.mailto_address(ical.master(calendar).get("ORGANIZER"))


def _cancelled(calendar: icalendar.Calendar) -> bool:
    return str(ical.master(calendar).get("STATUS", "")).upper() == "CANCELLED"


def _significant(calendar: icalendar.Calendar) -> list[str]:
    return [
        c.get(key).to_ical().decode() if hasattr(c.get(key), "to_ical") else str(c.get(key))
        for c in _components(calendar)
        for key in SIGNIFICANT
        if c.get(key) is not None
    ]


def set_partstat(calendar: icalendar.Calendar, address: str, partstat: str) -> bool:
    """Set ``address``'s PARTSTAT in every component; whether it was an attendee."""
    found = False
    for component in _components(calendar):
        for attendee in ical.as_list(component.get("ATTENDEE")):
            if ical.mailto_address(attendee) == address:
                attendee.params["PARTSTAT"] = partstat
                attendee.params.pop("RSVP", None)
                found = True
    return found


def _text(calendar: icalendar.Calendar) -> str:
    return str(calendar.to_ical().decode())


async def store(
    db: AsyncSession,
    principal: Principal,
    reach: Reach,
    name: str,
    text: str,
    *,
    before: str | None,
    if_match: str | None = None,
    if_none_match: bool = False,
) -> objects.ObjectInfo:
    """Store a resource as its author wrote it (CalDAV, the web, the API) and schedule
    what it means for the others. ``before``: its text before the write (None: new)."""
    saved, _created = await objects.put(db, reach, name, text, if_match=if_match, if_none_match=if_none_match)
    await after_write(db, principal, reach, before, text)
    return saved


async def discard(
    db: AsyncSession, principal: Principal, reach: Reach, name: str, *, before: str, if_match: str | None = None
) -> None:
    """Delete a resource as its author asked, and schedule it (cancellations, a decline)."""
    await objects.remove(db, reach, name, if_match=if_match)
    await after_write(db, principal, reach, before, None)


async def after_write(
    db: AsyncSession, principal: Principal, reach: Reach, before: str | None, after: str | None
) -> None:
    """Schedule what a write to an event means for the others, in the writer's
    transaction (the caller commits). ``before`` / ``after``: the resource's text before
    and after the write (None: created / deleted).

    Each text is parsed at most once, and not at all when there is nothing to do: no
    alarm to plan and the writer's address in neither text (then they are neither the
    organiser nor an attendee, and there is nobody to schedule for)."""
    if reach.collection.kind != CollectionKind.CALENDAR or reach.collection.purpose != Purpose.PERSONAL:
        return
    me = principal.email.lower()
    alarms = after is not None and "BEGIN:VALARM" in after
    involved = any(text and me in _unfolded(text).lower() for text in (before, after))
    if not alarms and not involved:
        return
    new = ical.parse(after) if after else None
    if alarms and after and new is not None:
        written = await objects.by_uid(db, reach, str(ical.master(new).get("UID", "")))
        if written is not None:
            reminders.plan(db, reach.collection, written, after)
    if not involved:
        return
    old = ical.parse(before) if before else None
    current = new or old
    if current is None:
        return
    chief = organizer(current)
    if not chief:
        return
    if chief == me:
        await _as_organizer(db, principal, old, new)
    elif me in attendees(current):
        await _as_attendee(db, principal, chief, old, new)


def _unfolded(text: str) -> str:
    """The text with its folded lines joined (RFC 5545 3.1): an address may be cut anywhere."""
    return _FOLD.sub("", text)


_FOLD = re.compile(r"\r?\n[ \t]")


async def _as_organizer(
    db: AsyncSession, principal: Principal, old: icalendar.Calendar | None, new: icalendar.Calendar | None
) -> None:
    me = principal.email.lower()
    before = {a: s for a, s in (attendees(old) if old else {}).items() if a != me}
    live = new is not None and not _cancelled(new)
    after = {a: s for a, s in (attendees(new) if new is not None else {}).items() if a != me}
    changed = old is None or new is None or _significant(old) != _significant(new)
    cancelled_for = set(before) - set(after) if live else set(before) | set(after)
    for address in sorted(cancelled_for):
        source = new if new is not None else old
        assert source is not None
        await _tell(db, principal, address, source, imip.CANCEL, announce=True)
    if not live or new is None:
        return
    answers = {}
    for address in sorted(after):
        answer = await _tell(db, principal, address, new, imip.REQUEST, announce=changed or address not in before)
        if answer is not None and answer != after[address]:
            answers[address] = answer
    if answers:  # rooms answered at once: the organiser's event says so
        await _record_answers(db, principal, str(ical.master(new)["UID"]), answers)


async def _record_answers(db: AsyncSession, principal: Principal, uid: str, answers: dict[str, str]) -> None:
    stored = await _find(db, Person.signed_in(principal), uid)
    if stored is None:
        return
    reach, row = stored
    calendar = ical.parse(row.data)
    for address, answer in answers.items():
        set_partstat(calendar, address, answer)
    await objects.put(db, reach, row.name, _text(calendar), if_match=row.etag)


async def _tell(
    db: AsyncSession, principal: Principal, address: str, calendar: icalendar.Calendar, method: str, *, announce: bool
) -> str | None:
    """Bring one attendee up to date: their own copy if they are one of ours (always),
    and an e-mail when there is news (``announce``). A room or equipment answers at
    once: its answer is returned."""
    room = await resources.by_address(db, address)
    if room is not None:
        uid = str(ical.master(calendar)["UID"])
        if method == imip.CANCEL:
            await resources.release(db, room, uid)
            return None
        return await resources.book(db, room, icalendar.Calendar.from_ical(calendar.to_ical()), uid)
    attendee = await person_by_email(db, address)
    if attendee is not None and attendee.org_id == principal.org_id and attendee.is_active:
        copy = icalendar.Calendar.from_ical(calendar.to_ical())
        if method == imip.CANCEL:
            for component in _components(copy):
                component["STATUS"] = "CANCELLED"
        await _deliver(db, attendee, copy)
        if announce:
            title = (
                _("{name} invites you: {summary}") if method == imip.REQUEST else _("Cancelled by {name}: {summary}")
            )
            _notify(
                db, attendee, title.format(name=principal.display_name, summary=ical.master(copy).get("SUMMARY", ""))
            )
    if announce:
        queue_mail(db, principal, method, [address], calendar)
    return None


async def _as_attendee(
    db: AsyncSession,
    principal: Principal,
    chief: str,
    old: icalendar.Calendar | None,
    new: icalendar.Calendar | None,
) -> None:
    me = principal.email.lower()
    was = attendees(old).get(me) if old is not None else None
    now = attendees(new).get(me, "NEEDS-ACTION") if new is not None else "DECLINED"
    if now == was or now == "NEEDS-ACTION":
        return
    source = new if new is not None else old
    assert source is not None
    host = await person_by_email(db, chief)
    if host is not None and host.org_id == principal.org_id:
        stored = await _find(db, host, str(ical.master(source)["UID"]))
        if stored is None:
            return
        reach, row = stored
        calendar = ical.parse(row.data)
        if set_partstat(calendar, me, now):
            await objects.put(db, reach, row.name, _text(calendar), if_match=row.etag)
            title = {
                "ACCEPTED": _("{name} accepted: {summary}"),
                "DECLINED": _("{name} declined: {summary}"),
                "TENTATIVE": _("{name} may come: {summary}"),
            }.get(now, _("{name} answered: {summary}"))
            _notify(
                db, host, title.format(name=principal.display_name, summary=ical.master(calendar).get("SUMMARY", ""))
            )
        return
    reply = icalendar.Calendar.from_ical(source.to_ical())
    for component in _components(reply):
        mine = [a for a in ical.as_list(component.get("ATTENDEE")) if ical.mailto_address(a) == me]
        component.pop("ATTENDEE", None)
        for attendee in mine:
            attendee.params["PARTSTAT"] = now
            component.add("attendee", attendee)
    queue_mail(db, principal, imip.REPLY, [chief], reply)


async def _find(db: AsyncSession, owner: Person, uid: str) -> tuple[Reach, DavObject] | None:
    """The owner's resource with this UID in one of their own calendars."""
    found = (
        await db.execute(
            select(Collection, DavObject)
            .join(DavObject, DavObject.collection_id == Collection.id)
            .where(
                Collection.owner_id == owner.id,
                Collection.kind == CollectionKind.CALENDAR,
                Collection.purpose == Purpose.PERSONAL,
                DavObject.uid == uid[:255],
            )
        )
    ).first()
    return None if found is None else (Reach(found[0]), found[1])


async def _default_calendar(db: AsyncSession, owner: Person) -> Reach:
    collection = await db.scalar(
        select(Collection)
        .where(
            Collection.owner_id == owner.id,
            Collection.kind == CollectionKind.CALENDAR,
            Collection.purpose == Purpose.PERSONAL,
        )
        .order_by(Collection.slug != DEFAULT_CALENDAR, Collection.created_at)
    )
    if collection is None:
        collection = Collection(
            org_id=owner.org_id,
            kind=CollectionKind.CALENDAR,
            purpose=Purpose.PERSONAL,
            owner_id=owner.id,
            slug=DEFAULT_CALENDAR,
            name=_("Agenda"),
        )
        db.add(collection)
        await db.flush()
    return Reach(collection)


async def _deliver(
    db: AsyncSession, owner: Person, calendar: icalendar.Calendar, *, keep_partstat: bool = False
) -> None:
    """Put the event into the owner's calendar: over their copy if they have one, in
    their default calendar otherwise. ``keep_partstat``: their answer in their copy
    survives (an organiser outside sent a new version)."""
    uid = str(ical.master(calendar)["UID"])
    if "METHOD" in calendar:
        del calendar["METHOD"]
    existing = await _find(db, owner, uid)
    if existing is not None:
        reach, row = existing
        if keep_partstat:
            answered = attendees(ical.parse(row.data)).get(owner.email.lower())
            if answered:
                set_partstat(calendar, owner.email.lower(), answered)
        written, _created = await objects.put(db, reach, row.name, _text(calendar), if_match=row.etag)
    else:
        reach = await _default_calendar(db, owner)
        written, _created = await objects.put(db, reach, f"{uuid.uuid4()}.ics", _text(calendar))
    reminders.plan(db, reach.collection, written, _text(calendar))


def _notify(db: AsyncSession, user: Person, title: str) -> None:
    notifications.post(db, org_id=user.org_id, user_id=user.id, module="calendar", title=title, link="/calendar/")


def queue_mail(
    db: AsyncSession, principal: Principal, method: str, recipients: list[str], calendar: icalendar.Calendar
) -> None:
    """Send an iMIP message as ``principal`` once the caller's transaction commits."""
    payload = {"user_id": principal.user_id, "method": method, "recipients": recipients, "calendar": _text(calendar)}
    jobs.enqueue(db, SEND_JOB, payload, org_id=principal.org_id)


async def send_mail(job: jobs.Claimed) -> None:
    """The job: build the iMIP message and submit it through mail as its author."""
    assert job.org_id is not None
    async with org_session(job.org_id) as db:
        author = await load_principal(db, uuid.UUID(str(job.payload["user_id"])))
    if author is None:
        return  # the author is gone: nobody to send as
    i18n.set_language(author.locale or author.org_default_locale)  # the author's words, as if they wrote it
    raw = imip.message(
        method=str(job.payload["method"]),
        sender=author.email,
        sender_name=author.display_name,
        recipients=list(job.payload["recipients"]),
        calendar=ical.parse(str(job.payload["calendar"])),
    )
    await submit(
        author, Person.signed_in(author), raw, mail_from=author.email, recipients=list(job.payload["recipients"])
    )


SEND = jobs.JobSpec(SEND_JOB, send_mail)


async def on_calendar_mail(event: dict[str, Any]) -> None:
    """The handler of mail's ``DELIVERED_CALENDAR``: iTIP messages from outside (those of
    the organisation's own people were scheduled directly, their e-mail is for reading)."""
    org_id = uuid.UUID(str(event["org_id"]))
    owner_id = await mailbox_owner(org_id, uuid.UUID(str(event["mailbox_id"])))
    sender = str(event["mail_from"]).strip().lower()
    if owner_id is None or not sender:
        return
    async with org_session(org_id, write=True) as db:
        owner = await person(db, owner_id)
        ours = await person_by_email(db, sender)
        if owner is None or (ours is not None and ours.org_id == org_id):
            return
        for text in event.get("calendars", []):
            invitation = imip.read(str(text))
            if invitation is not None:
                await _receive(db, owner, sender, invitation)
        await db.commit()


async def _receive(db: AsyncSession, owner: Person, sender: str, invitation: imip.Invitation) -> None:
    calendar = invitation.calendar
    summary = ical.master(calendar).get("SUMMARY", "")
    if invitation.method == imip.REPLY:
        stored = await _find(db, owner, invitation.uid)
        answer = attendees(calendar).get(sender)  # only the sender's own answer counts
        if stored is None or answer is None:
            return
        reach, row = stored
        mine = ical.parse(row.data)
        if organizer(mine) != owner.email.lower() or not set_partstat(mine, sender, answer):
            return
        await objects.put(db, reach, row.name, _text(mine), if_match=row.etag)
        _notify(db, owner, _("{name} answered: {summary}").format(name=sender, summary=summary))
        return
    if organizer(calendar) != sender:
        log.info("iTIP %s for %s from %s, not its organiser: ignored", invitation.method, invitation.uid, sender)
        return
    if invitation.method == imip.CANCEL:
        stored = await _find(db, owner, invitation.uid)
        if stored is None:
            return
        calendar = ical.parse(stored[1].data)
        for component in _components(calendar):
            component["STATUS"] = "CANCELLED"
        await objects.put(db, stored[0], stored[1].name, _text(calendar), if_match=stored[1].etag)
        _notify(db, owner, _("Cancelled by {name}: {summary}").format(name=sender, summary=summary))
        return
    await _deliver(db, owner, calendar, keep_partstat=True)
    _notify(db, owner, _("{name} invites you: {summary}").format(name=sender, summary=summary))
