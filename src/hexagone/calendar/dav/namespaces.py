"""The namespaces of CalDAV, CardDAV and the extensions calendar clients use, with the
prefixes the DAV kit writes them with."""

from __future__ import annotations

from hexagone.core.dav.xml import declare_prefix

CALDAV = "urn:ietf:params:xml:ns:caldav"
CARDDAV = "urn:ietf:params:xml:ns:carddav"
CS = "http://calendarserver.org/ns/"
APPLE = "http://apple.com/ns/ical/"

for _namespace, _prefix in ((CALDAV, "C"), (CARDDAV, "CR"), (CS, "CS"), (APPLE, "A")):
    declare_prefix(_namespace, _prefix)
