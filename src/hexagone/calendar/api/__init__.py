"""The calendar's JSON API, mounted at ``/api/v1/calendar`` (see docs/calendar.md): the
same services and policy as the pages, for applications holding a token."""

from fastapi import APIRouter

from hexagone.calendar.api import calendars, contacts, events, freebusy

ROUTERS: list[APIRouter] = [calendars.router, events.router, freebusy.router, contacts.router]
