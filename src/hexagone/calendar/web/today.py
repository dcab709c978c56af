"""Today's agenda on the home page: the viewer's occurrences of the day, in their zone
(the calendar module's :class:`~hexagone.core.modules.HomePanel`)."""

from __future__ import annotations

from datetime import datetime, timedelta

from hexagone.calendar.service import agenda
from hexagone.calendar.web import common
from hexagone.core.auth import Principal
from hexagone.core.db import org_session
from hexagone.core.i18n import gettext as _
from hexagone.core.modules import HomePanel

MAX_SHOWN = 8


async def panel(principal: Principal) -> HomePanel | None:
    async with org_session(principal.org_id) as db:
        zone = await agenda.viewer_zone(db, principal)
        today = datetime.now(zone).date()
        start = common.at_midnight(today, zone)
        found = await agenda.occurrences(db, principal, start, start + timedelta(days=1), zone)
    return HomePanel(
        title=_("Today's agenda"),
        template="calendar/_today.html",
        context={"occurrences": found[:MAX_SHOWN], "more": len(found) > MAX_SHOWN, "common": common},
    )
