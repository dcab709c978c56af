"""The chat module's descriptor: its tables, its periodic retention job, its pages and
WebSocket, its JSON API, search and commands. Parts a command does not use are
:class:`Lazy`."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from hexagone.chat import policy  # noqa: F401 - registers the channel ability rule
from hexagone.chat.cli import cli
from hexagone.chat.service.retention import JOBS
from hexagone.core.i18n import N_
from hexagone.core.modules import Lazy, LiveHandler, Module, NavItem, SearchProvider

if TYPE_CHECKING:
    from fastapi import APIRouter
    from starlette.routing import BaseRoute

    from hexagone.core.export import Exporter


def _routes() -> Sequence[BaseRoute]:
    from hexagone.chat import admin, web

    return [*web.ROUTES, *admin.ROUTES]


def _live() -> Mapping[str, LiveHandler]:
    from hexagone.chat.live import API_PATH, PAGE_PATH
    from hexagone.chat.live.endpoint import live

    return {PAGE_PATH: live, API_PATH: live}


def _nav() -> Sequence[NavItem]:
    from hexagone.chat.web.badge import unread

    return [NavItem(path="/chat/", label=N_("Chat"), icon="chat", badge=unread)]


def _api() -> Sequence[APIRouter]:
    from hexagone.chat import api

    return api.ROUTERS


def _search() -> Sequence[SearchProvider]:
    from hexagone.chat import search

    return [search.messages]


def _export() -> Exporter:
    from hexagone.chat.service.exporting import organisation

    return organisation


def _demo() -> Callable[[uuid.UUID], Awaitable[None]]:
    from hexagone.chat import demo

    return demo.seed


MODULE = Module(
    name="chat",
    label="Chat",
    package_dir=Path(__file__).parent,
    routes=Lazy(_routes),
    nav=Lazy(_nav),
    admin_nav=[NavItem(path="/chat/admin", label=N_("Chat"))],
    api_routers=Lazy(_api),
    live=Lazy(_live),
    search_providers=Lazy(_search),
    jobs=JOBS,
    cli=cli,
    export=Lazy(_export),
    demo=Lazy(_demo),
    models_module="hexagone.chat.models",
)
