"""The agenda's pages: day, week, month and list views of the calendars a person shows,
one event's detail and forms (create, change, move, delete, answer), and the calendars
(new, settings, subscription, import, export), and the contacts (``contacts``). Server-rendered; every action is a form
that works without JavaScript, and ``frontend/calendar/agenda.js`` adds drag and drop and
keyboard moves that post to the same forms.

Routes are mounted under ``/calendar/`` (the module is subscribable); the view route
comes last, as its path is a parameter."""

from starlette.routing import BaseRoute

from hexagone.calendar.web import availability, calendars, contacts, events, views
from hexagone.core import pages
from hexagone.core.i18n import N_

ROUTES: list[BaseRoute] = [
    *events.ROUTES,
    *calendars.ROUTES,
    *availability.ROUTES,
    *contacts.ROUTES,
    *views.ROUTES,
]

pages.notices(
    {
        "event_created": N_("The event is created."),
        "event_saved": N_("The event is saved."),
        "event_moved": N_("The event is moved."),
        "event_deleted": N_("The event is deleted."),
        "event_answered": N_("Your answer is saved."),
        "calendar_created": N_("The calendar is created."),
        "calendar_saved": N_("The calendar is saved."),
        "calendar_subscribed": N_("The subscription is saved: its events appear once the feed is fetched."),
        "calendar_imported": N_("The file is imported."),
        "calendar_shared": N_("The calendar is shared."),
        "calendar_unshared": N_("The share is removed."),
    }
)
