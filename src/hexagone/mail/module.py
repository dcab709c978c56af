"""The mail module's descriptor: its listeners (IMAP, SMTP, submission, ManageSieve), its pages and
its tables. Each part's package lists what it contributes.

The parts a command does not use (pages, API, listeners, search) are
:class:`~hexagone.core.modules.Lazy`: imported when the app or the servers start, not by
every ``hexagone`` command. The job handlers are installed whenever the registry loads."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING
from uuid import UUID

from hexagone.core.i18n import N_
from hexagone.core.modules import EventHandler, Lazy, Module, NavItem, SearchProvider, Server
from hexagone.mail import cli, policy  # noqa: F401 - policy registers ability rules
from hexagone.mail.migration import jobs as migration_jobs
from hexagone.mail.service import relay, store

if TYPE_CHECKING:
    from fastapi import APIRouter
    from starlette.routing import BaseRoute

    from hexagone.core.export import Exporter


def _routes() -> Sequence[BaseRoute]:
    from hexagone.mail import admin, web

    return [*web.ROUTES, *admin.ROUTES]


def _public_routes() -> Sequence[BaseRoute]:
    from hexagone.mail import admin

    return admin.PUBLIC_ROUTES


def _api_routers() -> Sequence[APIRouter]:
    from hexagone.mail import api

    return api.ROUTERS


def _nav() -> Sequence[NavItem]:
    from hexagone.mail import web

    return web.NAV


def _search_providers() -> Sequence[SearchProvider]:
    from hexagone.mail import search

    return [search.messages]


def _event_handlers() -> Mapping[str, Sequence[EventHandler]]:
    from hexagone.mail.service import delivery, forwarding, vacation

    return {delivery.DELIVERED_AUTO_REPLY: [vacation.on_delivered], delivery.REDIRECTED: [forwarding.on_redirected]}


def _servers() -> Sequence[Server]:
    from hexagone.mail import imap, managesieve, smtp

    return [*imap.SERVERS, *smtp.SERVERS, *managesieve.SERVERS]


def _export() -> Exporter:
    from hexagone.mail.migration import org_export

    return org_export.export


def _demo() -> Callable[[UUID], Awaitable[None]]:
    from hexagone.mail.service import demo

    return demo.seed


MODULE = Module(
    name="mail",
    label="Mail",
    package_dir=Path(__file__).parent,
    routes=Lazy(_routes),
    public_routes=Lazy(_public_routes),
    api_routers=Lazy(_api_routers),
    search_providers=Lazy(_search_providers),
    nav=Lazy(_nav),
    admin_nav=[NavItem(path="/mail/admin", label=N_("Mail"))],
    event_handlers=Lazy(_event_handlers),
    servers=Lazy(_servers),
    jobs=[store.GC, migration_jobs.IMPORT, relay.QUEUE],
    cli=cli.cli,
    export=Lazy(_export),
    models_module="hexagone.mail.models",
    demo=Lazy(_demo),
)
