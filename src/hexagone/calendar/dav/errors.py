"""Calendar's own DAV errors (the kit's :class:`~hexagone.core.dav.errors.DavError` for
the rest)."""

from __future__ import annotations

from hexagone.calendar import ical
from hexagone.calendar.dav.namespaces import CALDAV
from hexagone.core.dav.errors import DavError
from hexagone.core.dav.xml import tag
from hexagone.core.i18n import _


def too_many_instances() -> DavError:
    """Expanding a recurrence over the asked range would exceed the server's cap."""
    return DavError(
        403,
        _("The range holds more than {count} occurrences: ask for a shorter one.").format(count=ical.MAX_INSTANCES),
        tag(CALDAV, "max-instances"),
    )
