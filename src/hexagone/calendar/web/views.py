"""The agenda's views: day, week, month and a list, over the calendars the viewer shows,
in their time zone, with previous / next / today, and a slot of the day grid leading to a
new event at that time. The colours of the calendars come from a stylesheet of their
own (:func:`colours`): the Content-Security-Policy allows no inline style."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from hexagone.calendar.service import agenda
from hexagone.calendar.web import common
from hexagone.core import pages
from hexagone.core.db import org_session
from hexagone.core.exceptions import NotFound
from hexagone.core.i18n import gettext as _
from hexagone.core.web import login_required


@login_required
async def index(request: Request) -> Response:
    query = f"?{request.url.query}" if request.url.query else ""
    return RedirectResponse(f"/calendar/week{query}", status_code=303)


@login_required
async def view(request: Request) -> Response:
    name = request.path_params["view"]
    if name not in common.VIEWS:
        raise NotFound(_("No such page."))
    principal = pages.me(request)
    async with org_session(principal.org_id, write=True) as db:
        viewer = await common.viewer(db, principal, request)
        await db.commit()  # a member's own calendar, made on first visit
        day = common.day_param(request, viewer.zone)
        covered = common.span(name, day)
        start, end = covered.bounds(viewer.zone)
        found = await agenda.occurrences(db, principal, start, end, viewer.zone, viewer.shown) if viewer.shown else []
    today = datetime.now(viewer.zone).date()
    days = covered.days()
    context = {
        "view": name,
        "viewer": viewer,
        "day": day,
        "today": today,
        "span": covered,
        "days": days,
        "occurrences": found,
        "title": _title(name, covered, day),
        "links": {v: common.view_url(v, day, viewer) for v in common.VIEWS},
        "previous_url": common.view_url(name, covered.previous, viewer),
        "next_url": common.view_url(name, covered.next, viewer),
        "today_url": common.view_url(name, today, viewer),
        "common": common,
        "slot_times": [
            (n + 1, (datetime.min + timedelta(minutes=n * common.SLOT_MINUTES)).time()) for n in range(common.SLOTS)
        ],
    }
    if name in ("day", "week"):
        context["columns"] = [(d, common.all_day_on(d, found), common.place(d, found, viewer.zone)) for d in days]
    elif name == "month":
        context["weeks"] = [days[i : i + 7] for i in range(0, len(days), 7)]
        context["weekdays"] = common.weekday_names()
        context["by_day"] = {d: common.on_day(d, found) for d in days}
    else:
        context["by_day"] = [(d, items) for d in days if (items := common.on_day(d, found))]
    return pages.render(request, "calendar/view.html", context)


def _title(view: str, covered: common.Span, day: date) -> str:
    if view == "day":
        return common.long_day(covered.first)
    if view == "month":
        return common.month_title(day)
    return _("%(first)s to %(last)s", first=common.short_day(covered.first), last=common.short_day(covered.last))


@login_required
async def colours(request: Request) -> Response:
    """The colour of each calendar the viewer reaches, as a class per calendar."""
    principal = pages.me(request)
    async with org_session(principal.org_id) as db:
        found = await agenda.calendars(db, principal)
    css = "".join(f".c-{c.id.hex}{{--cal-color:{c.color[:7]}}}\n" for c in found)
    return Response(css, media_type="text/css", headers={"cache-control": "private, no-cache"})


ROUTES = [
    Route("/", index),
    Route("/colours.css", colours),
    Route("/{view:str}", view),
]
