"""The sample module: the walk-through of docs/module-kit.md ("Writing a module") done,
installed by the tests only (``HEXAGONE_MODULES=tests.sample_module``). Each part of the
contract is here once: a page with a form, an API route, a command, a job, a search
provider, an admin tab, a permission rule and a catalogue.

Its page and API are :class:`~hexagone.core.modules.Lazy`, as a module's should be: a
``hexagone`` command imports neither."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from hexagone.core.i18n import N_
from hexagone.core.jobs import JobSpec
from hexagone.core.modules import Lazy, Module, NavItem
from tests.sample_module import notes
from tests.sample_module.cli import cli
from tests.sample_module.notes import tidy

if TYPE_CHECKING:
    from fastapi import APIRouter
    from starlette.routing import BaseRoute

__all__ = ["MODULE", "tidy"]


def _routes() -> Sequence[BaseRoute]:
    from tests.sample_module import web

    return web.ROUTES


def _prefix_routes() -> Sequence[BaseRoute]:
    from tests.sample_module import web

    return web.PREFIX_ROUTES


def _api_routers() -> Sequence[APIRouter]:
    from tests.sample_module import api

    return [api.router]


MODULE = Module(
    name="sample",
    label="Sample",
    package_dir=Path(__file__).parent,
    routes=Lazy(_routes),
    prefixes=("/sample-feeds",),
    prefix_routes=Lazy(_prefix_routes),
    api_routers=Lazy(_api_routers),
    nav=[NavItem(path="/sample/", label=N_("Notes"))],
    admin_nav=[NavItem(path="/sample/admin", label=N_("Notes"))],
    search_providers=[notes.search_notes],
    cli=cli,
    jobs=[JobSpec(notes.FILE_NOTE, tidy)],
)
