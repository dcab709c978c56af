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

import copy
import logging
import re
import uuid
from dataclasses import dataclass
from typing import Any

import icalendar
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hexagone.calendar import ical
from hexagone.calendar.models import Collection, CollectionKind, DavObject, Purpose
from hexagone.calendar.policy import Reach
from hexagone.calendar.service import delegation, imip, inbox, itip, objects, reminders, resources
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
# A delivered copy is named after its UID when the UID makes a plain resource name.
_SAFE_NAME = re.compile(r"^[A-Za-z0-9@._-]{1,200}\.ics$")
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
    if_schedule_tag: str | None = None,
) -> objects.ObjectInfo:
    """Store a resource as its author wrote it (CalDAV, the web, the API) and schedule
    what it means for the others. ``before``: its text before the write (None: new).

    The schedule tag (RFC 6638 3.2.10) changes with every write but an attendee's answer
    in their own copy: only the organiser's changes are news to them. An organiser's
    write under ``if_schedule_tag`` keeps the answers merged since the client read the
    event (:func:`itip.keep_answers`): the stored text then differs from ``text``."""
    keep = False
    parsed = None
    if before is not None and (write := await _scheduled_write(db, principal, reach, before, text)) is not None:
        old, new, chief, actor = write
        parsed = (old, new)
        if chief in (actor.address, principal.email.lower()):
            if if_schedule_tag is not None and itip.keep_answers(old, new, chief):
                text = _text(new)
        else:
            keep = chief == organizer(old) and itip.answers_only(old, new, actor.address)
    saved, _created = await objects.put(
        db,
        reach,
        name,
        text,
        if_match=if_match,
        if_none_match=if_none_match,
        if_schedule_tag=if_schedule_tag,
        keep_schedule_tag=keep,
    )
    await after_write(db, principal, reach, before, text, written=saved, parsed=parsed)
    return saved


async def _scheduled_write(
    db: AsyncSession, principal: Principal, reach: Reach, before: str, after: str
) -> tuple[icalendar.Calendar, icalendar.Calendar, str, delegation.Actor] | None:
    """A rewrite of a scheduling object resource, for its schedule tag: both texts parsed,
    the new one's organiser, and whom the write speaks for. None when either text names
    no ORGANIZER (nothing is parsed then) or the new one is refused anyway."""
    if reach.collection.kind != CollectionKind.CALENDAR or "ORGANIZER" not in before or "ORGANIZER" not in after:
        return None
    try:
        old, new = ical.parse(before), ical.parse(after)
    except ical.InvalidCalendarData:
        return None  # the write itself is refused
    chief = organizer(new)
    if not chief:
        return None
    return old, new, chief, await delegation.acting_for(db, principal, reach)


async def discard(
    db: AsyncSession,
    principal: Principal,
    reach: Reach,
    name: str,
    *,
    before: str,
    if_match: str | None = None,
    if_schedule_tag: str | None = None,
    reply: bool = True,
) -> None:
    """Delete a resource as its author asked, and schedule it (cancellations, a decline;
    ``reply=False``: an attendee's deletion tells the organiser nothing, RFC 6638 8.1)."""
    await objects.remove(db, reach, name, if_match=if_match, if_schedule_tag=if_schedule_tag)
    await after_write(db, principal, reach, before, None, reply=reply)


async def after_write(
    db: AsyncSession,
    principal: Principal,
    reach: Reach,
    before: str | None,
    after: str | None,
    *,
    written: objects.ObjectInfo | None = None,
    reply: bool = True,
    parsed: tuple[icalendar.Calendar, icalendar.Calendar] | None = None,
) -> None:
    """Schedule what a write to an event means for the others, in the writer's
    transaction (the caller commits). ``before`` / ``after``: the resource's text before
    and after the write (None: created / deleted); ``written``: the resource as this
    write stored it, whose next alarm is planned; ``parsed``: both texts as the caller
    already parsed them (this function may change them). The write speaks for the
    calendar's owner when a delegate made it (:func:`delegation.acting_for`).

    Each text is parsed at most once, and only when someone is to be scheduled for (an
    ORGANIZER in either text): an alarm is planned from the stored resource alone."""
    if reach.collection.kind != CollectionKind.CALENDAR or reach.collection.purpose != Purpose.PERSONAL:
        return
    alarms = after is not None and "BEGIN:VALARM" in after
    involved = any(text and "ORGANIZER" in text for text in (before, after))
    if not alarms and not involved:
        return
    if alarms and after and written is not None:
        reminders.plan(db, reach.collection, written, after)
    if not involved:
        return
    old: icalendar.Calendar | None
    new: icalendar.Calendar | None
    if parsed is not None:
        old, new = parsed
    else:
        new = ical.parse(after) if after else None
        old = ical.parse(before) if before else None
    current = new or old
    if current is None:
        return
    chief = organizer(current)
    if not chief:
        return
    actor = await delegation.acting_for(db, principal, reach)
    if chief != actor.address and chief == principal.email.lower():
        actor = delegation.self_actor(principal)  # a delegate's own meeting kept in the owner's calendar
    if chief == actor.address:
        await _as_organizer(db, reach, actor, old, new)
    elif itip.partstats(current, actor.address):
        await _as_attendee(db, reach, actor, chief, old, new, reply=reply)


async def _as_organizer(
    db: AsyncSession,
    reach: Reach,
    actor: delegation.Actor,
    old: icalendar.Calendar | None,
    new: icalendar.Calendar | None,
) -> None:
    """Send each attendee what changed for them (their view of the event: RFC 6638 3.2),
    then write into the organiser's event what came of it: rooms' answers, SCHEDULE-STATUS,
    the delegate who wrote (SENT-BY)."""
    me = actor.address
    if new is not None:
        itip.sign_organizer(new, actor.sent_by)
    live = new is not None and not _cancelled(new)
    told_before = old is not None and _cancelled(old)  # a cancelled event is cancelled once
    before = itip.recipients(old, me) if old is not None else itip.NOBODY
    after = itip.recipients(new, me) if new is not None else itip.NOBODY
    found: dict[str, str] = dict.fromkeys(after.invalid, itip.INVALID_USER)
    answers: dict[str, str] = {}
    for address in dict.fromkeys((*before.addresses, *after.addresses)):
        if address in after.by_client:
            continue  # the client schedules this calendar user from now on (RFC 6638 7.1)
        was = itip.view(old, address) if old is not None and address in before.addresses else None
        now = itip.view(new, address) if new is not None and address in after.addresses else None
        if not live or now is None:
            told = now if new is not None and now is not None else was
            assert told is not None
            keep = itip.cancelled(told)
            outcome = await _tell(db, actor, address, told, imip.CANCEL, announce=not told_before, keep=keep)
        else:
            gone = itip.dropped(was, now)
            if gone and was is not None and old is not None and new is not None:
                whole = itip.MASTER in gone
                cancel = was if whole else itip.cancellation(old, new, gone, was, address)
                await _tell(db, actor, address, cancel, imip.CANCEL, announce=True, keep=None, partial=not whole)
            news = was is None or bool(gone) or address in after.forced or _significant(was) != _significant(now)
            outcome = await _tell(db, actor, address, now, imip.REQUEST, announce=news, keep=now)
            if outcome.answer is not None and outcome.answer != itip.partstats(now, address).get(itip.MASTER):
                answers[address] = outcome.answer
        if outcome.status:
            found[address] = outcome.status
    if new is not None:
        await _record(db, reach, actor, new, answers, found)


async def _record(
    db: AsyncSession,
    reach: Reach,
    actor: delegation.Actor,
    sent: icalendar.Calendar,
    answers: dict[str, str],
    found: dict[str, str],
) -> None:
    """Write rooms' answers, SCHEDULE-STATUS and SENT-BY into the organiser's event as
    stored (only when something differs: a write that changes nothing keeps its ETag),
    keeping the schedule tag the organiser's write gave it."""
    row = await objects.by_uid(db, reach, str(ical.master(sent)["UID"]))
    if row is None:
        return
    calendar = ical.parse(row.data)
    changed = itip.sign_organizer(calendar, actor.sent_by)
    for address, answer in answers.items():
        changed = set_partstat(calendar, address, answer) or changed
    changed = itip.statuses(calendar, found) or changed
    if changed:
        await objects.put(db, reach, row.name, _text(calendar), if_match=row.etag, keep_schedule_tag=True)


@dataclass(frozen=True)
class Outcome:
    """What came of telling one attendee: the SCHEDULE-STATUS to record ("" when nothing
    was sent), and a room's answer."""

    status: str = ""
    answer: str | None = None


async def _tell(
    db: AsyncSession,
    actor: delegation.Actor,
    address: str,
    calendar: icalendar.Calendar,
    method: str,
    *,
    announce: bool,
    keep: icalendar.Calendar | None,
    partial: bool = False,
) -> Outcome:
    """Bring one attendee up to date: their own copy becomes ``keep`` if they are one of
    ours (always), and when there is news (``announce``) the message goes to their inbox
    with a notification and by e-mail. A room or equipment answers at once (a
    ``partial`` cancellation is left to the request that follows)."""
    room = await resources.by_address(db, address)
    if room is not None:
        uid = str(ical.master(calendar)["UID"])
        if partial:
            return Outcome()
        if method == imip.CANCEL:
            await resources.release(db, room, uid)
            return Outcome(itip.DELIVERED)
        return Outcome(itip.DELIVERED, await resources.book(db, room, copy.deepcopy(calendar), uid))
    message = itip.for_sending(calendar)
    attendee = await person_by_email(db, address)
    if attendee is not None and attendee.org_id == actor.person.org_id:
        if not attendee.is_active:
            return Outcome(itip.NOT_ALLOWED)
        if keep is not None:
            await _deliver(db, attendee, itip.for_sending(keep))
        if announce:
            if not attendee.is_guest:  # a guest has no scheduling inbox (nor CalDAV)
                await inbox.deliver(db, attendee, method, copy.deepcopy(message))
            title = (
                _("{name} invites you: {summary}") if method == imip.REQUEST else _("Cancelled by {name}: {summary}")
            )
            _notify(db, attendee, title.format(name=_signed(actor), summary=ical.master(message).get("SUMMARY", "")))
    elif not announce:
        return Outcome()
    if announce:
        queue_mail(db, actor, method, [address], message)
    return Outcome(itip.DELIVERED if attendee is not None and attendee.org_id == actor.person.org_id else itip.SENT)


def _signed(actor: delegation.Actor) -> str:
    """The name a notification gives: the calendar user, and the delegate who acted."""
    if not actor.sent_by:
        return actor.name
    return _("{owner} (through {delegate})").format(owner=actor.name, delegate=actor.delegate_name)


async def _as_attendee(
    db: AsyncSession,
    reach: Reach,
    actor: delegation.Actor,
    chief: str,
    old: icalendar.Calendar | None,
    new: icalendar.Calendar | None,
    *,
    reply: bool,
) -> None:
    """Tell the organiser the attendee's new answers (per occurrence), unless the client
    asked not to (``Schedule-Reply: F``, ``SCHEDULE-AGENT=CLIENT`` on the ORGANIZER), then
    record on the ORGANIZER of the attendee's copy how it went (SCHEDULE-STATUS)."""
    me = actor.address
    was = itip.partstats(old, me)
    now = itip.partstats(new, me) if new is not None else dict.fromkeys(was, "DECLINED")
    source = new if new is not None else old
    assert source is not None
    forced = itip.forced(ical.master(source).get("ORGANIZER")) == "REPLY"
    answers = {k: s for k, s in now.items() if (forced or s != was.get(k)) and s != "NEEDS-ACTION"}
    if not answers or not reply or itip.client_scheduled(ical.master(source).get("ORGANIZER")):
        return
    uid = str(ical.master(source)["UID"])
    host = await person_by_email(db, chief)
    if host is not None and host.org_id == actor.person.org_id:
        stored = await _find(db, host, uid)
        if stored is None:
            return
        host_reach, row = stored
        calendar = ical.parse(row.data)
        if itip.set_partstat(calendar, me, answers, actor.sent_by):
            # An answer merged: the organiser's client may go on editing (RFC 6638 3.2.10).
            await objects.put(db, host_reach, row.name, _text(calendar), if_match=row.etag, keep_schedule_tag=True)
            answer = answers.get(itip.MASTER) or next(iter(answers.values()))
            title = {
                "ACCEPTED": _("{name} accepted: {summary}"),
                "DECLINED": _("{name} declined: {summary}"),
                "TENTATIVE": _("{name} may come: {summary}"),
            }.get(answer, _("{name} answered: {summary}"))
            _notify(db, host, title.format(name=_signed(actor), summary=ical.master(calendar).get("SUMMARY", "")))
            await inbox.deliver(db, host, imip.REPLY, itip.for_sending(itip.reply(source, me, answers, actor.sent_by)))
        status = itip.DELIVERED
    else:
        queue_mail(db, actor, imip.REPLY, [chief], itip.for_sending(itip.reply(source, me, answers, actor.sent_by)))
        status = itip.SENT
    if new is not None:
        row_now = await objects.by_uid(db, reach, uid)
        mine = ical.parse(row_now.data) if row_now is not None else None
        if row_now is not None and mine is not None and itip.organizer_status(mine, status):
            await objects.put(db, reach, row_now.name, _text(mine), if_match=row_now.etag, keep_schedule_tag=True)


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


async def default_calendar(db: AsyncSession, owner_id: uuid.UUID) -> Collection | None:
    """Where invitations land for a user who has no copy yet (RFC 6638 9.2
    schedule-default-calendar-URL): their calendar ``agenda``, else their oldest one."""
    found: Collection | None = await db.scalar(
        select(Collection)
        .where(
            Collection.owner_id == owner_id,
            Collection.kind == CollectionKind.CALENDAR,
            Collection.purpose == Purpose.PERSONAL,
            Collection.subscription_url == "",
        )
        .order_by(Collection.slug != DEFAULT_CALENDAR, Collection.created_at)
        .limit(1)
    )
    return found


async def _default_calendar(db: AsyncSession, owner: Person) -> Reach:
    collection = await default_calendar(db, owner.id)
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
    their default calendar otherwise, named after its UID when that is free (as a client
    saving an invitation from its inbox names it). ``keep_partstat``: their answer in
    their copy survives (an organiser outside sent a new version)."""
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
        name = f"{uid}.ics"
        if not _SAFE_NAME.match(name) or await objects.many(db, reach, [name]):
            name = f"{uuid.uuid4()}.ics"
        written, _created = await objects.put(db, reach, name, _text(calendar))
    reminders.plan(db, reach.collection, written, _text(calendar))


def _notify(db: AsyncSession, user: Person, title: str) -> None:
    notifications.post(db, org_id=user.org_id, user_id=user.id, module="calendar", title=title, link="/calendar/")


def queue_mail(
    db: AsyncSession, actor: delegation.Actor, method: str, recipients: list[str], calendar: icalendar.Calendar
) -> None:
    """Send an iMIP message once the caller's transaction commits, as the calendar user
    the write spoke for, or as their delegate on their behalf."""
    payload: dict[str, Any] = {
        "user_id": actor.person.id,
        "method": method,
        "recipients": recipients,
        "calendar": _text(calendar),
    }
    if actor.sent_by:
        payload["delegate"] = actor.sent_by
    jobs.enqueue(db, SEND_JOB, payload, org_id=actor.person.org_id)


async def send_mail(job: jobs.Claimed) -> None:
    """The job: build the iMIP message and submit it through mail as its author (a
    delegate's message goes out from the delegate, for the calendar user: RFC 6047 says
    SENT-BY, when there is one, is the message's sender)."""
    assert job.org_id is not None
    delegate = str(job.payload.get("delegate") or "")
    async with org_session(job.org_id) as db:
        owner = await load_principal(db, uuid.UUID(str(job.payload["user_id"])))
        acting = await person_by_email(db, delegate) if delegate else None
        author = await load_principal(db, acting.id) if acting is not None else owner
    if owner is None or author is None:
        return  # the author is gone: nobody to send as
    i18n.set_language(author.locale or author.org_default_locale)  # the author's words, as if they wrote it
    raw = imip.message(
        method=str(job.payload["method"]),
        sender=author.email,
        sender_name=author.display_name,
        recipients=list(job.payload["recipients"]),
        calendar=ical.parse(str(job.payload["calendar"])),
        on_behalf_of=(owner.display_name, owner.email) if author is not owner else None,
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
    """Apply an iTIP message from outside to the owner's calendar, and put it in their
    scheduling inbox. A message about some occurrences only changes those."""
    calendar = invitation.calendar
    summary = ical.master(calendar).get("SUMMARY", "")
    if invitation.method == imip.REPLY:
        stored = await _find(db, owner, invitation.uid)
        answers = itip.partstats(calendar, sender)  # only the sender's own answer counts
        if stored is None or not answers:
            return
        reach, row = stored
        mine = ical.parse(row.data)
        if organizer(mine) != owner.email.lower() or not itip.set_partstat(mine, sender, answers):
            return
        await objects.put(db, reach, row.name, _text(mine), if_match=row.etag, keep_schedule_tag=True)
        _notify(db, owner, _("{name} answered: {summary}").format(name=sender, summary=summary))
        await inbox.deliver(db, owner, imip.REPLY, copy.deepcopy(calendar))
        return
    if organizer(calendar) != sender:
        log.info("iTIP %s for %s from %s, not its organiser: ignored", invitation.method, invitation.uid, sender)
        return
    stored = await _find(db, owner, invitation.uid)
    if invitation.method == imip.CANCEL:
        if stored is None:
            return
        current = ical.parse(stored[1].data)
        if itip.only_instances(calendar):
            current = itip.merge_instances(current, calendar, cancel=True)
        else:
            current = itip.cancelled(current)
        await objects.put(db, stored[0], stored[1].name, _text(current), if_match=stored[1].etag)
        _notify(db, owner, _("Cancelled by {name}: {summary}").format(name=sender, summary=summary))
    else:
        received = copy.deepcopy(calendar)
        if stored is not None and itip.only_instances(received):
            received = itip.merge_instances(ical.parse(stored[1].data), received, cancel=False)
        await _deliver(db, owner, received, keep_partstat=True)
        _notify(db, owner, _("{name} invites you: {summary}").format(name=sender, summary=summary))
    await inbox.deliver(db, owner, invitation.method, copy.deepcopy(calendar))
