"""The sample module: the walk-through of docs/module-kit.md ("Writing a module") done,
installed by the tests only (``HEXAGONE_MODULES=tests.sample_module``). Each part of the
contract is here once: a page with a form, an API route, a command, a job, a search
provider, an admin tab, a permission rule and a catalogue."""

from __future__ import annotations

from pathlib import Path

from hexagone.core.i18n import N_
from hexagone.core.jobs import JobSpec
from hexagone.core.modules import Module, NavItem
from tests.sample_module import api, notes, web
from tests.sample_module.cli import cli
from tests.sample_module.notes import tidy

__all__ = ["MODULE", "tidy"]

MODULE = Module(
    name="sample",
    label="Sample",
    package_dir=Path(__file__).parent,
    routes=web.ROUTES,
    api_routers=[api.router],
    nav=[NavItem(path="/sample/", label=N_("Notes"))],
    admin_nav=[NavItem(path="/sample/admin", label=N_("Notes"))],
    search_providers=[notes.search_notes],
    cli=cli,
    jobs=[JobSpec(notes.FILE_NOTE, tidy)],
)
