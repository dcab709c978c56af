"""iMIP (RFC 6047): an iTIP message (RFC 5546) as e-mail. Building the message a user
sends to attendees or to an organiser, and reading what arrives. The MIME is the
``email`` package's, the iCalendar ``icalendar``'s."""

from __future__ import annotations

import email.message
import email.utils
from dataclasses import dataclass
from typing import Any

import icalendar

from hexagone.calendar import ical
from hexagone.core.i18n import _

REQUEST, REPLY, CANCEL = "REQUEST", "REPLY", "CANCEL"


@dataclass(frozen=True)
class Invitation:
    """An iTIP message as the calendar reads it."""

    method: str
    uid: str
    calendar: icalendar.Calendar


def message(
    *,
    method: str,
    sender: str,
    sender_name: str,
    recipients: list[str],
    calendar: icalendar.Calendar,
    on_behalf_of: tuple[str, str] | None = None,
) -> bytes:
    """The e-mail carrying ``calendar`` with ``method``: a readable summary, and the
    ``text/calendar; method=…`` part clients act on (RFC 6047 2.4). A delegate's message
    (``on_behalf_of``: the name and address of the calendar user they act for) comes from
    the delegate, the SENT-BY of the iCalendar part, says for whom, and answers to them."""
    calendar = _with_method(calendar, method)
    event = next(c for c in calendar.subcomponents if c.name in ical.SCHEDULED)
    summary = str(event.get("SUMMARY", ""))
    subject = {
        REQUEST: _("Invitation: {summary}"),
        REPLY: _("Reply: {summary}"),
        CANCEL: _("Cancelled: {summary}"),
    }[method].format(summary=summary)
    mail = email.message.EmailMessage()
    mail["From"] = email.utils.formataddr((sender_name, sender))
    mail["To"] = ", ".join(recipients)
    mail["Subject"] = subject
    mail["Date"] = email.utils.formatdate(localtime=False)
    mail["Message-ID"] = email.utils.make_msgid(domain=sender.rsplit("@", 1)[-1])
    mail["Auto-Submitted"] = "auto-generated"
    lines = _readable(event, subject)
    if on_behalf_of is not None:
        owner_name, owner_address = on_behalf_of
        mail["Reply-To"] = email.utils.formataddr((owner_name, owner_address))
        on_behalf = _("{delegate} sends this on behalf of {owner}.").format(delegate=sender_name, owner=owner_name)
        lines = on_behalf + "\n\n" + lines
    mail.set_content(lines)
    mail.add_alternative(calendar.to_ical(), maintype="text", subtype="calendar", params={"method": method})
    return mail.as_bytes()


def read(text: str) -> Invitation | None:
    """The iTIP message in a ``text/calendar`` part, or None when it is not one we act on."""
    try:
        calendar = ical.parse(text)
    except ical.InvalidCalendarData:
        return None
    method = str(calendar.get("METHOD", "")).upper()
    components = [c for c in calendar.subcomponents if c.name in ical.SCHEDULED]
    if method not in (REQUEST, REPLY, CANCEL) or not components or not components[0].get("UID"):
        return None
    return Invitation(method=method, uid=str(components[0]["UID"]), calendar=calendar)


def _with_method(calendar: icalendar.Calendar, method: str) -> icalendar.Calendar:
    copy = icalendar.Calendar.from_ical(calendar.to_ical())
    if "METHOD" in copy:
        del copy["METHOD"]
    copy.add("method", method)
    return copy


def _readable(event: Any, subject: str) -> str:
    lines = [subject, ""]
    if event.get("DTSTART") is not None:
        lines.append(_("When: {start}").format(start=event.start))
    if event.get("LOCATION"):
        lines.append(_("Where: {location}").format(location=event["LOCATION"]))
    if event.get("DESCRIPTION"):
        lines += ["", str(event["DESCRIPTION"])]
    return "\n".join(lines) + "\n"
