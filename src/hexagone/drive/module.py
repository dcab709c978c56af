"""The drive module's descriptor: its tables, its jobs (version retention, trash purge,
blob collection, expired uploads), its pages and its tab of the admin console, its JSON
API, search, commands, export and demo files, and the URL prefixes WebDAV fixes outside
``/drive/`` (``/dav/files/<user>/``, ``/dav/spaces/<space id>/``), which the
subscription gate guards as it guards ``/drive/``. Parts a command does not use are :class:`Lazy`."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from hexagone.core.i18n import N_
from hexagone.core.modules import Lazy, Module, NavItem, SearchProvider
from hexagone.drive import policy  # noqa: F401 - registers the node ability rule
from hexagone.drive.cli import cli
from hexagone.drive.extraction import jobs as extraction
from hexagone.drive.service.retention import JOBS

if TYPE_CHECKING:
    from fastapi import APIRouter
    from starlette.routing import BaseRoute

    from hexagone.core.export import Exporter

DAV_PREFIXES = ("/dav/files", "/dav/spaces")


def _routes() -> Sequence[BaseRoute]:
    from hexagone.drive import admin, web
    from hexagone.drive.web import links, previews

    return [*web.ROUTES, *links.ROUTES, *previews.ROUTES, *admin.ROUTES]


def _public_routes() -> Sequence[BaseRoute]:
    from hexagone.drive.web import links

    return links.PUBLIC_ROUTES


def _dav_routes() -> Sequence[BaseRoute]:
    from hexagone.drive.dav import app

    return app.ROUTES


def _api() -> Sequence[APIRouter]:
    from hexagone.drive import api

    return api.ROUTERS


def _search() -> Sequence[SearchProvider]:
    from hexagone.drive import search

    return [search.files]


def _export() -> Exporter:
    from hexagone.drive import org_export

    return org_export.export_organisation


def _demo() -> Callable[[uuid.UUID], Awaitable[None]]:
    from hexagone.drive import demo

    return demo.seed


MODULE = Module(
    name="drive",
    label="Drive",
    package_dir=Path(__file__).parent,
    routes=Lazy(_routes),
    public_routes=Lazy(_public_routes),
    api_routers=Lazy(_api),
    prefixes=DAV_PREFIXES,
    prefix_routes=Lazy(_dav_routes),
    nav=[NavItem(path="/drive/", label=N_("Drive"), icon="folder")],
    admin_nav=[NavItem(path="/drive/admin", label=N_("Drive"))],
    search_providers=Lazy(_search),
    jobs=[*JOBS, *extraction.JOBS],
    cli=cli,
    export=Lazy(_export),
    demo=Lazy(_demo),
    models_module="hexagone.drive.models",
)
