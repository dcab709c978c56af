"""Calendars and contacts: CalDAV and CardDAV, shared agendas, invitations, rooms, address books."""
