"""The calendar module's descriptor: its tables, its jobs (invitations sent by mail),
what it hears from mail (invitations and replies that arrive, and sent mail whose
addresses it collects), its CalDAV/CardDAV routes, its pages (agenda, contacts, room administration), its API, search,
address suggestions, commands and export. Parts a command does not use are :class:`Lazy`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from hexagone.calendar import policy  # noqa: F401 - registers the collection ability rule
from hexagone.calendar.cli import cli
from hexagone.calendar.service import feeds, reminders, scheduling
from hexagone.core.i18n import N_
from hexagone.core.modules import AddressSuggester, EventHandler, HomeProvider, Lazy, Module, NavItem, SearchProvider

if TYPE_CHECKING:
    from fastapi import APIRouter
    from starlette.routing import BaseRoute

    from hexagone.core.export import Exporter


def _routes() -> Sequence[BaseRoute]:
    from hexagone.calendar import admin, web
    from hexagone.calendar.dav import app as dav

    return [*dav.ROUTES, *admin.ROUTES, *web.ROUTES]


def _public_routes() -> Sequence[BaseRoute]:
    from hexagone.calendar.dav import app as dav

    return dav.PUBLIC_ROUTES


def _api() -> Sequence[APIRouter]:
    from hexagone.calendar import api

    return api.ROUTERS


def _home() -> Sequence[HomeProvider]:
    from hexagone.calendar.web import today

    return [today.panel]


def _search() -> Sequence[SearchProvider]:
    from hexagone.calendar import search

    return [search.events, search.people]


def _suggestions() -> Sequence[AddressSuggester]:
    from hexagone.calendar.service import contacts_collected

    return [contacts_collected.suggestions]


def _event_handlers() -> Mapping[str, Sequence[EventHandler]]:
    from hexagone.calendar.service import contacts_collected
    from hexagone.mail.service import DELIVERED_CALENDAR, SUBMITTED

    return {DELIVERED_CALENDAR: [scheduling.on_calendar_mail], SUBMITTED: [contacts_collected.collect]}


def _export() -> Exporter:
    from hexagone.calendar import org_export

    return org_export.export_organisation


MODULE = Module(
    name="calendar",
    label="Calendar",
    package_dir=Path(__file__).parent,
    routes=Lazy(_routes),
    api_routers=Lazy(_api),
    home=Lazy(_home),
    nav=[NavItem(path="/calendar/", label=N_("Calendar"), icon="calendar")],
    admin_nav=[NavItem(path="/calendar/admin", label=N_("Calendar"))],
    search_providers=Lazy(_search),
    address_suggestions=Lazy(_suggestions),
    event_handlers=Lazy(_event_handlers),
    jobs=[scheduling.SEND, reminders.PLAN, reminders.REMIND, feeds.FETCH],
    cli=cli,
    export=Lazy(_export),
    models_module="hexagone.calendar.models",
    public_routes=Lazy(_public_routes),
)
