"""The module registry: how a module plugs into the core without the core knowing it.

A module exposes a :class:`Module` descriptor (``hexagone.<name>.module.MODULE``). The
composition root (:mod:`hexagone.app`) loads the installed ones and hands each part to the
core piece that serves it: routes to the web app, navigation to the shell, search
providers to unified search, handlers to the event bus, job handlers to the job worker,
commands to the ``hexagone`` command, its part of an organisation's export to
``hexagone org export``, servers to ``hexagone serve``.

A *subscribable* module is visible to an organisation only when the organisation
subscribes to it: its navigation entry is hidden and its routes (all under ``/<name>/``)
answer 404, exactly as if it did not exist.
"""

from __future__ import annotations

import importlib
import uuid
from collections.abc import Awaitable, Callable, Coroutine, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from starlette.routing import BaseRoute

from hexagone.core.export import Exporter
from hexagone.core.jobs import HANDLERS, JobSpec

if TYPE_CHECKING:
    import typer
    from fastapi import APIRouter

    from hexagone.core.auth import Principal


@dataclass(frozen=True)
class NavItem:
    """An entry of the shell's navigation. ``label`` is a msgid of the module's catalogue."""

    path: str
    label: str
    icon: str = "square"
    # A path under the module answering an HTML fragment (a count: unread mail) that the
    # shell loads into the entry and refreshes every minute; empty for none.
    badge: str = ""
    guests: bool = True  # False: hidden from guests (they have no mailbox, for instance)


@dataclass(frozen=True)
class SearchHit:
    kind: str
    title: str
    subtitle: str
    url: str


SearchProvider = Callable[["Principal", str, int], Awaitable[list[SearchHit]]]
EventHandler = Callable[[dict[str, Any]], Awaitable[None]]
Server = Callable[[], Coroutine[Any, Any, None]]  # run as a task of its own, so a coroutine


@dataclass
class Module:
    name: str
    label: str
    package_dir: Path
    subscribable: bool = True
    routes: Sequence[BaseRoute] = ()
    # Routes mounted at the root and answered to anyone, subscribed or not, signed in or
    # not: what a protocol fixes the path of (mail client autoconfiguration).
    public_routes: Sequence[BaseRoute] = ()
    api_routers: Sequence[APIRouter] = ()
    nav: Sequence[NavItem] = ()
    admin_nav: Sequence[NavItem] = ()  # tabs the module adds to the admin console
    search_providers: Sequence[SearchProvider] = ()
    event_handlers: dict[str, Sequence[EventHandler]] = field(default_factory=dict)
    servers: Sequence[Server] = ()
    jobs: Sequence[JobSpec] = ()  # the kinds of durable job the module runs, installed in the worker
    # Commands and command groups merged into the ``hexagone`` command (a group named
    # ``mail`` gives ``hexagone mail …``); see :mod:`hexagone.core.cli`.
    cli: typer.Typer | None = None
    export: Exporter | None = None  # the module's part of ``hexagone org export``
    models_module: str | None = None
    setup: Callable[[], None] | None = None  # called once when the app is built
    demo: Callable[[uuid.UUID], Awaitable[None]] | None = None  # fills the demo organisation (``hexagone demo``)

    @property
    def templates_dir(self) -> Path | None:
        path = self.package_dir / "templates"
        return path if path.is_dir() else None

    @property
    def locale_dir(self) -> Path | None:
        path = self.package_dir / "locale"
        return path if path.is_dir() else None


class Registry:
    """The loaded modules, in load order."""

    def __init__(self, modules: Sequence[Module]):
        self.modules = list(modules)
        self._by_name = {m.name: m for m in self.modules}

    def __iter__(self) -> Iterator[Module]:
        return iter(self.modules)

    def get(self, name: str) -> Module | None:
        return self._by_name.get(name)

    @property
    def subscribable(self) -> list[Module]:
        return [m for m in self.modules if m.subscribable]

    def visible_to(self, subscribed: Sequence[str]) -> list[Module]:
        return [m for m in self.modules if not m.subscribable or m.name in subscribed]

    def search_providers(self, subscribed: Sequence[str]) -> list[SearchProvider]:
        return [p for m in self.visible_to(subscribed) for p in m.search_providers]

    def exporters(self, subscribed: Sequence[str]) -> list[tuple[str, Exporter]]:
        """The parts of an organisation's export, by module, for the modules it sees."""
        return [(m.name, m.export) for m in self.visible_to(subscribed) if m.export is not None]


# The core's own tables: its general ones, and those its service packages keep beside
# their code (the job queue).
CORE_MODELS = ("hexagone.core.models", "hexagone.core.jobs.models")


def load_modules(paths: Sequence[str]) -> Registry:
    """Load the modules at ``paths`` and install what a process needs whatever it runs:
    every table in ``Base.metadata`` (the core's, then the modules' models) and the
    modules' job handlers."""
    for name in CORE_MODELS:
        importlib.import_module(name)
    registry = Registry([load_module(path) for path in paths])
    HANDLERS.install(spec for module in registry for spec in module.jobs)
    return registry


def load_module(path: str) -> Module:
    """Import ``path`` (``hexagone.mail`` or ``hexagone.mail.module``) and return its MODULE."""
    try:
        mod = importlib.import_module(path if path.endswith(".module") else f"{path}.module")
    except ModuleNotFoundError:
        mod = importlib.import_module(path)
    descriptor = getattr(mod, "MODULE", None)
    if not isinstance(descriptor, Module):
        raise RuntimeError(f"{path} does not expose a Module named MODULE")
    if descriptor.models_module:
        importlib.import_module(descriptor.models_module)
    return descriptor
