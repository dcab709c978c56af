"""When colleagues and rooms are free on a day, for planning a meeting: a form of
addresses (the rooms of the organisation offered) and a day, and the busy spans of each,
in the viewer's zone (:mod:`hexagone.calendar.service.freebusy`: nothing about what
they do). A plain GET form, so it works without script and can be bookmarked."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from hexagone.calendar.service import freebusy, resources
from hexagone.calendar.web import common
from hexagone.core import pages
from hexagone.core.db import org_session
from hexagone.core.exceptions import ServiceError
from hexagone.core.web import login_required

MAX_TYPED = 5000


@login_required
async def availability(request: Request) -> Response:
    principal = pages.me(request)
    typed = request.query_params.get("addresses", "")[:MAX_TYPED]
    picked = request.query_params.getlist("room")
    addresses = [a for a in (line.strip() for line in typed.splitlines()) if a] + picked
    error: ServiceError | None = None
    found: dict[str, list[freebusy.Busy] | None] = {}
    async with org_session(principal.org_id) as db:
        viewer = await common.viewer(db, principal)
        rooms = await resources.listing(db)
        day = common.day_param(request, viewer.zone)
        start = datetime.combine(day, time(), tzinfo=viewer.zone)
        if addresses:
            try:
                found = await freebusy.busy_times(db, principal, addresses, start, start + timedelta(days=1))
            except ServiceError as refused:
                error = refused
    return pages.render(
        request,
        "calendar/availability.html",
        {
            "viewer": viewer,
            "day": day,
            "typed": typed,
            "rooms": rooms,
            "picked": set(picked),
            "found": found,
            "zone": viewer.zone,
        },
        error,
    )


ROUTES = [Route("/availability", availability)]
