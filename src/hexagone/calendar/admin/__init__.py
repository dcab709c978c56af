"""The calendar's pages of the admin console (under ``/calendar/admin``, for the
organisation's admins): rooms and equipment. What they do is in
:mod:`hexagone.calendar.service.resources`, which checks the admin rule again."""

from starlette.routing import BaseRoute

from hexagone.calendar.admin import rooms
from hexagone.core import pages
from hexagone.core.i18n import N_

ROUTES: list[BaseRoute] = [*rooms.ROUTES]

pages.notices(
    {
        "resource_created": N_("The resource is created: invite its address to book it."),
        "resource_removed": N_("The resource is removed."),
    }
)
