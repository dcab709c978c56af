"""The drive module's descriptor: its tables, its jobs (version retention, trash purge,
blob collection), its pages, search, commands, export and demo files, and the URL
prefixes WebDAV fixes outside ``/drive/`` (``/dav/files/<user>/``,
``/dav/spaces/<space id>/``), which the subscription gate guards as it guards
``/drive/``. Parts a command does not use are :class:`Lazy`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from hexagone.core.i18n import N_
from hexagone.core.modules import Module, NavItem
from hexagone.drive import policy  # noqa: F401 - registers the node ability rule
from hexagone.drive.cli import cli
from hexagone.drive.service.retention import JOBS

if TYPE_CHECKING:
    pass

DAV_PREFIXES = ("/dav/files", "/dav/spaces")


MODULE = Module(
    name="drive",
    label="Drive",
    package_dir=Path(__file__).parent,
    prefixes=DAV_PREFIXES,
    nav=[NavItem(path="/drive/", label=N_("Drive"), icon="folder")],
    jobs=JOBS,
    cli=cli,
    models_module="hexagone.drive.models",
)
