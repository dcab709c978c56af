"""iTIP (RFC 5546) as the server schedules it (RFC 6638 3.2): which calendar users an
event speaks to, what each of them is sent, and the parameters the server writes back.
Pure functions over ``icalendar`` objects: :mod:`.scheduling` decides when to call them.

- **Who**: every ``ATTENDEE`` with a ``mailto:`` address, in the master or in one
  overridden occurrence (a component with RECURRENCE-ID), except the organiser and those
  the client schedules itself (``SCHEDULE-AGENT=CLIENT`` or ``NONE``, RFC 6638 7.1).
- **What**: each attendee's *view* of the event: the master when they are in it, with an
  EXDATE for each overridden occurrence they are not in, and the overridden occurrences
  they are in. An attendee of one occurrence only gets that occurrence, with no master.
  Occurrences that leave an attendee's view are cancelled for them alone.
- **On whose behalf**: a delegate writing for the calendar's owner is named by
  ``SENT-BY`` on the owner's ORGANIZER or ATTENDEE (RFC 5545 3.2.18).
- **SCHEDULE-STATUS** (RFC 6638 3.2.9) on the organiser's ATTENDEE properties once the
  server has sent, and ``SCHEDULE-FORCE-SEND`` (7.3) read as a request to send anyway.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import icalendar

from hexagone.calendar import ical

MASTER = ""  # the instance key of the component without RECURRENCE-ID

# SCHEDULE-STATUS values (RFC 6638 3.2.9, codes of RFC 5546 3.6).
SENT = "1.1"  # handed to mail: whether it arrives is not known here
DELIVERED = "1.2"  # in the attendee's calendar and inbox (a member), or answered (a room)
INVALID_USER = "3.7"  # not a calendar user address we can reach
NOT_ALLOWED = "5.3"  # scheduling with this calendar user is refused (a disabled account)

_ADDRESS = re.compile(r"^[^@\s<>,;:\"]+@[^@\s<>,;:\"]+$")
_CLIENT_AGENTS = ("CLIENT", "NONE")


def components(calendar: icalendar.Calendar) -> list[Any]:
    return [c for c in calendar.subcomponents if c.name in ical.SCHEDULED]


def moment_key(moment: date | datetime) -> str:
    """An occurrence's start as a key: in UTC for a time with a zone, as written for a
    date or a floating time (compared with the same kind only)."""
    if isinstance(moment, datetime) and moment.tzinfo is not None:
        return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    if isinstance(moment, datetime):
        return moment.strftime("%Y%m%dT%H%M%S")
    return moment.strftime("%Y%m%d")


def instance_key(component: Any) -> str:
    """Which occurrence a component describes: MASTER, or its RECURRENCE-ID."""
    recurrence = component.get("RECURRENCE-ID")
    return MASTER if recurrence is None else moment_key(recurrence.dt)


def _attendee_props(component: Any) -> list[Any]:
    return ical.as_list(component.get("ATTENDEE"))


def _holds(component: Any, address: str) -> bool:
    return any(ical.mailto_address(a) == address for a in _attendee_props(component))


def client_scheduled(prop: Any) -> bool:
    """Whether the client, not the server, sends to this calendar user (RFC 6638 7.1)."""
    params = getattr(prop, "params", {})
    return str(params.get("SCHEDULE-AGENT", "SERVER")).upper() in _CLIENT_AGENTS


def forced(prop: Any) -> str:
    """SCHEDULE-FORCE-SEND (RFC 6638 7.3): "REQUEST" or "REPLY" when the client asks the
    server to send even without news, "" otherwise."""
    return str(getattr(prop, "params", {}).get("SCHEDULE-FORCE-SEND", "")).upper()


def valid_address(address: str) -> bool:
    return bool(_ADDRESS.match(address))


@dataclass(frozen=True)
class Recipients:
    """The calendar users of an event the server schedules, and the ATTENDEE values it
    cannot reach (not ``mailto:``, or no address in it)."""

    addresses: tuple[str, ...]
    invalid: tuple[str, ...]
    forced: frozenset[str]  # those whose ATTENDEE asks SCHEDULE-FORCE-SEND=REQUEST
    by_client: frozenset[str] = frozenset()  # SCHEDULE-AGENT=CLIENT or NONE: left alone


NOBODY = Recipients((), (), frozenset())


def recipients(calendar: icalendar.Calendar, organizer: str) -> Recipients:
    found: dict[str, None] = {}
    invalid: dict[str, None] = {}
    by_client: set[str] = set()
    force: set[str] = set()
    for component in components(calendar):
        for prop in _attendee_props(component):
            address = ical.mailto_address(prop)
            if address == organizer:
                continue
            if client_scheduled(prop):
                by_client.add(address or str(prop))
                continue
            if not address or not valid_address(address):
                invalid[str(prop)] = None
                continue
            found[address] = None
            if forced(prop) == "REQUEST":
                force.add(address)
    return Recipients(
        addresses=tuple(a for a in found if a not in by_client),
        invalid=tuple(v for v in invalid if v not in by_client),
        forced=frozenset(force),
        by_client=frozenset(by_client),
    )


def _shell(calendar: icalendar.Calendar) -> icalendar.Calendar:
    """The calendar without its events, tasks or journal entries (time zones, PRODID…)."""
    shell = icalendar.Calendar()
    for key, value in calendar.items():
        if key != "METHOD":
            shell.add(key, value)
    for component in calendar.subcomponents:
        if component.name not in ical.SCHEDULED:
            shell.add_component(copy.deepcopy(component))
    return shell


def view(calendar: icalendar.Calendar, address: str) -> icalendar.Calendar | None:
    """What ``address`` is invited to (see the module's text), None when to nothing."""
    parts = components(calendar)
    master = next((c for c in parts if "RECURRENCE-ID" not in c), None)
    holding = [c for c in parts if _holds(c, address)]
    if not holding:
        return None
    result = _shell(calendar)
    if master is not None and _holds(master, address):
        mine = copy.deepcopy(master)
        for skipped in (c for c in parts if c is not master and not _holds(c, address)):
            mine.add("exdate", skipped["RECURRENCE-ID"].dt)
        result.add_component(mine)
        holding = [c for c in holding if c is not master]
    for component in holding:
        result.add_component(copy.deepcopy(component))
    return result


def _invited(calendar: icalendar.Calendar | None) -> tuple[bool, dict[str, Any], dict[str, Any]]:
    """Of a view: whether it has the master, the occurrences it overrides and those its
    master excludes (key: the RECURRENCE-ID or EXDATE value)."""
    if calendar is None:
        return False, {}, {}
    master = False
    overridden: dict[str, Any] = {}
    excluded: dict[str, Any] = {}
    for component in components(calendar):
        key = instance_key(component)
        if key == MASTER:
            master = True
            for exdate in ical.as_list(component.get("EXDATE")):
                excluded |= {moment_key(d.dt): d.dt for d in exdate.dts}
        else:
            overridden[key] = component["RECURRENCE-ID"].dt
    return master, overridden, excluded


def dropped(before: icalendar.Calendar | None, after: icalendar.Calendar | None) -> dict[str, Any]:
    """The occurrences an attendee was invited to in ``before`` and is not in ``after``
    (both views of theirs), with their RECURRENCE-ID values. MASTER in it: the whole
    series left their view."""
    had_master, had, had_excluded = _invited(before)
    has_master, has, has_excluded = _invited(after)
    if had_master and not has_master:
        return {MASTER: None}
    gone = {}
    for key, moment in {**had, **had_excluded, **has, **has_excluded}.items():
        was = key in had or (had_master and key not in had_excluded)
        now = key in has or (has_master and key not in has_excluded)
        if was and not now:
            gone[key] = moment
    return gone


def cancellation(
    old: icalendar.Calendar, new: icalendar.Calendar, gone: dict[str, Any], mine: icalendar.Calendar, address: str
) -> icalendar.Calendar:
    """A CANCEL of the occurrences ``gone`` (RFC 5546 3.2.5) for ``address``, whose view
    was ``mine``: each occurrence as the organiser last described it (its overriding
    component, or the master's at that date), STATUS:CANCELLED, with that attendee only."""
    result = _shell(mine)
    sources = {instance_key(c): c for c in components(old)}
    sources.update({instance_key(c): c for c in components(new)})
    attendee = next(a for c in components(mine) for a in _attendee_props(c) if ical.mailto_address(a) == address)
    for key, moment in sorted(gone.items()):
        source = sources.get(key)
        if source is None:  # a plain occurrence of the series
            source = copy.deepcopy(sources[MASTER])
            for name in ("RRULE", "RDATE", "EXDATE", "DTSTART", "DTEND", "DURATION"):
                source.pop(name, None)
            source.add("recurrence-id", moment)
            source.add("dtstart", moment)
        component = copy.deepcopy(source)
        component.pop("ATTENDEE", None)
        component.add("attendee", copy.deepcopy(attendee))
        component.pop("STATUS", None)
        component.add("status", "CANCELLED")
        result.add_component(component)
    return result


def cancelled(calendar: icalendar.Calendar) -> icalendar.Calendar:
    """The calendar with every component STATUS:CANCELLED (an attendee's copy of an
    event the organiser cancelled)."""
    result = copy.deepcopy(calendar)
    for component in components(result):
        component.pop("STATUS", None)
        component.add("status", "CANCELLED")
    return result


def partstats(calendar: icalendar.Calendar | None, address: str) -> dict[str, str]:
    """``address``'s participation status in each occurrence it is invited to."""
    found: dict[str, str] = {}
    for component in components(calendar) if calendar is not None else []:
        for prop in _attendee_props(component):
            if ical.mailto_address(prop) == address:
                found[instance_key(component)] = str(prop.params.get("PARTSTAT", "NEEDS-ACTION")).upper()
    return found


def reply(calendar: icalendar.Calendar, address: str, answers: dict[str, str], sent_by: str = "") -> icalendar.Calendar:
    """A REPLY of ``address`` (RFC 5546 3.2.3): the occurrences answered, each with that
    attendee only and their new PARTSTAT (and SENT-BY the delegate who answered)."""
    result = _shell(calendar)
    for component in components(calendar):
        key = instance_key(component)
        if key not in answers:
            continue
        answered = copy.deepcopy(component)
        mine = [a for a in _attendee_props(answered) if ical.mailto_address(a) == address]
        answered.pop("ATTENDEE", None)
        for prop in mine:
            prop.params["PARTSTAT"] = answers[key]
            prop.params.pop("RSVP", None)
            _sign(prop, sent_by)
            answered.add("attendee", prop)
        result.add_component(answered)
    return result


def set_partstat(calendar: icalendar.Calendar, address: str, answers: dict[str, str], sent_by: str = "") -> bool:
    """Write ``address``'s answers into the organiser's event (per occurrence; an answer
    for MASTER also reaches the overridden occurrences answered alike before). Whether
    anything changed."""
    changed = False
    master_before = partstats(calendar, address).get(MASTER)
    for component in components(calendar):
        key = instance_key(component)
        answer = answers.get(key)
        for prop in _attendee_props(component):
            if ical.mailto_address(prop) != address:
                continue
            current = str(prop.params.get("PARTSTAT", "NEEDS-ACTION")).upper()
            if answer is None and MASTER in answers and key != MASTER and current == master_before:
                answer = answers[MASTER]
            if answer is None or answer == current:
                continue
            prop.params["PARTSTAT"] = answer
            prop.params.pop("RSVP", None)
            _sign(prop, sent_by)
            changed = True
    return changed


def _sign(prop: Any, sent_by: str) -> None:
    prop.params.pop("SENT-BY", None)
    if sent_by:
        prop.params["SENT-BY"] = f"mailto:{sent_by}"


def sign_organizer(calendar: icalendar.Calendar, sent_by: str) -> bool:
    """Name the delegate who wrote for the organiser (``SENT-BY``), or nobody when the
    organiser wrote; whether the calendar changed."""
    changed = False
    for component in components(calendar):
        prop = component.get("ORGANIZER")
        if prop is None or not hasattr(prop, "params"):
            continue
        wanted = f"mailto:{sent_by}" if sent_by else None
        if prop.params.get("SENT-BY") != wanted:
            _sign(prop, sent_by)
            changed = True
    return changed


def _mark(prop: Any, status: str) -> bool:
    """SCHEDULE-STATUS on one ORGANIZER or ATTENDEE, SCHEDULE-FORCE-SEND dropped (it was
    obeyed); whether anything changed."""
    changed = str(prop.params.get("SCHEDULE-STATUS", "")) != status
    prop.params["SCHEDULE-STATUS"] = status
    return prop.params.pop("SCHEDULE-FORCE-SEND", None) is not None or changed


def statuses(calendar: icalendar.Calendar, found: dict[str, str]) -> bool:
    """Write SCHEDULE-STATUS on the ATTENDEE properties of the addresses (or invalid
    values) in ``found``; whether the calendar changed."""
    changed = False
    for component in components(calendar):
        for prop in _attendee_props(component):
            status = found.get(ical.mailto_address(prop)) or found.get(str(prop))
            if status is not None and hasattr(prop, "params"):
                changed = _mark(prop, status) or changed
    return changed


def organizer_status(calendar: icalendar.Calendar, status: str) -> bool:
    """SCHEDULE-STATUS on the ORGANIZER of an attendee's copy once their answer went out."""
    changed = False
    for component in components(calendar):
        prop = component.get("ORGANIZER")
        if prop is not None and hasattr(prop, "params"):
            changed = _mark(prop, status) or changed
    return changed


# What an attendee changes in their copy for themselves alone (RFC 6638 3.2.2.3): the
# stamps their client renews, whether it blocks their time, the occurrences they drop.
_ATTENDEE_OWN = frozenset({"BEGIN", "END", "DTSTAMP", "LAST-MODIFIED", "TRANSP", "EXDATE"})


def answers_only(old: icalendar.Calendar, new: icalendar.Calendar, address: str) -> bool:
    """Whether ``new`` differs from ``old`` only by what the attendee ``address`` changes
    for themselves: their own ATTENDEE properties (their answers), the ORGANIZER's
    SCHEDULE-STATUS, alarms, client properties (``X-``), stamps, and occurrences they
    answer apart (a component with a RECURRENCE-ID added). The schedule tag of their copy
    then stays (RFC 6638 3.2.10): only the organiser's changes are news."""
    before = {instance_key(c): c for c in components(old)}
    after = {instance_key(c): c for c in components(new)}
    if not set(before) <= set(after):
        return False
    return all(_shared_part(before[key], address) == _shared_part(after[key], address) for key in before)


def _shared_part(component: Any, address: str) -> list[tuple[str, bytes, tuple[tuple[str, str], ...]]]:
    """The properties of ``component`` an attendee ``address`` does not change alone."""
    found = []
    for name, value in component.property_items(recursive=False):
        if name in _ATTENDEE_OWN or name.startswith("X-"):
            continue
        if name == "ATTENDEE" and ical.mailto_address(value) == address:
            continue
        params = getattr(value, "params", {})
        kept = tuple(
            sorted((k, str(v)) for k, v in params.items() if not (name == "ORGANIZER" and k == "SCHEDULE-STATUS"))
        )
        found.append((name, value.to_ical() if hasattr(value, "to_ical") else bytes(value), kept))
    return sorted(found)


# What reschedules an occurrence (RFC 6638 3.2.8): there the attendees answer again.
_RESCHEDULING = ("DTSTART", "DTEND", "DURATION", "DUE", "RRULE", "RDATE", "EXDATE")


def keep_answers(old: icalendar.Calendar, new: icalendar.Calendar, organiser: str) -> bool:
    """Carry the attendees' answers of the organiser's stored event ``old`` into the
    organiser's new version ``new``, in each occurrence both hold that the write does
    not reschedule; whether ``new`` changed. For a write under If-Schedule-Tag-Match
    (RFC 6638 3.2.10): the answers merged since the client read the event kept its
    schedule tag, so the client's text may still hold older ones, which must not undo
    them (nor reach the attendees' copies)."""
    before = {instance_key(c): c for c in components(old)}
    changed = False
    for component in components(new):
        was = before.get(instance_key(component))
        if was is None or _times(was) != _times(component):
            continue
        answers = {
            ical.mailto_address(p): str(p.params.get("PARTSTAT", "NEEDS-ACTION")).upper()
            for p in _attendee_props(was)
            if hasattr(p, "params")
        }
        for prop in _attendee_props(component):
            address = ical.mailto_address(prop)
            answer = answers.get(address)
            if not address or address == organiser or answer is None or not hasattr(prop, "params"):
                continue
            if str(prop.params.get("PARTSTAT", "NEEDS-ACTION")).upper() != answer:
                prop.params["PARTSTAT"] = answer
                changed = True
    return changed


def _times(component: Any) -> list[bytes]:
    return [
        value.to_ical() if hasattr(value, "to_ical") else str(value).encode()
        for key in _RESCHEDULING
        for value in ical.as_list(component.get(key))
    ]


_SERVER_PARAMS = ("SCHEDULE-AGENT", "SCHEDULE-STATUS", "SCHEDULE-FORCE-SEND")


def for_sending(calendar: icalendar.Calendar) -> icalendar.Calendar:
    """A copy fit to leave the organiser's calendar: without METHOD, nor the parameters
    that speak to this server only (RFC 6638 7.1-7.3)."""
    result = copy.deepcopy(calendar)
    if "METHOD" in result:
        del result["METHOD"]
    for component in components(result):
        for prop in [*_attendee_props(component), component.get("ORGANIZER")]:
            for name in _SERVER_PARAMS:
                getattr(prop, "params", {}).pop(name, None)
    return result


def only_instances(calendar: icalendar.Calendar) -> bool:
    """Whether every component is an overridden occurrence (a message about some
    occurrences of a series, not the series)."""
    parts = components(calendar)
    return bool(parts) and all("RECURRENCE-ID" in c for c in parts)


def merge_instances(stored: icalendar.Calendar, message: icalendar.Calendar, *, cancel: bool) -> icalendar.Calendar:
    """The stored event with the occurrences a message speaks of replaced (a REQUEST) or
    cancelled (a CANCEL: its overriding component marked cancelled, or an EXDATE on the
    master when it had none)."""
    result = copy.deepcopy(stored)
    mine = {instance_key(c): c for c in components(result)}
    master = mine.get(MASTER)
    for incoming in components(message):
        key = instance_key(incoming)
        current = mine.get(key)
        if cancel and current is None and master is not None:
            master.add("exdate", incoming["RECURRENCE-ID"].dt)
            continue
        replacement = copy.deepcopy(current if cancel and current is not None else incoming)
        if cancel:
            replacement.pop("STATUS", None)
            replacement.add("status", "CANCELLED")
        if current is not None:
            result.subcomponents = [replacement if c is current else c for c in result.subcomponents]
        else:
            result.add_component(replacement)
    return result
