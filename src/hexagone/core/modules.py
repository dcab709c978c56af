"""The module registry: how a module plugs into the core without the core knowing it.

A module exposes a :class:`Module` descriptor (``hexagone.<name>.module.MODULE``). The
composition root (:mod:`hexagone.app`) loads the installed ones and hands each part to the
core piece that serves it: routes to the web app, navigation to the shell, search
providers to unified search, handlers to the event bus, job handlers to the job worker,
commands to the ``hexagone`` command, its part of an organisation's export to
``hexagone org export``, servers to ``hexagone serve``, live sockets to :mod:`hexagone.core.live`.

A part may be given :class:`Lazy`: the function that imports it runs the first time the
core reads the part. A process reads only what it uses: ``hexagone user create`` imports
neither pages nor API nor protocol servers, which would cost each command over a second.

A *subscribable* module is visible to an organisation only when the organisation
subscribes to it: its navigation entry is hidden and its routes (all under ``/<name>/``)
answer 404, exactly as if it did not exist.
"""

from __future__ import annotations

import importlib
import re
import uuid
from collections.abc import Awaitable, Callable, Coroutine, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, TypeVar, overload

from starlette.routing import BaseRoute

from hexagone.core.export import Exporter
from hexagone.core.jobs import HANDLERS, JobSpec

if TYPE_CHECKING:
    import typer
    from fastapi import APIRouter

    from hexagone.core.auth import Principal

T = TypeVar("T")


@dataclass(frozen=True)
class Badge:
    """What waits behind a navigation entry: the count shown (none at 0), and what a
    screen reader says after it, translated ("3 unread messages")."""

    count: int
    label: str = ""


# How many things wait for the principal (unread mail). The shell asks every entry's
# counter in one request per page and again every minute (``/shell/badges``), not one
# request per entry.
BadgeCounter = Callable[["Principal"], Awaitable[Badge]]


@dataclass(frozen=True)
class NavItem:
    """An entry of the shell's navigation. ``label`` is a msgid of the module's catalogue."""

    path: str
    label: str
    icon: str = "square"
    badge: BadgeCounter | None = None  # the count shown beside the entry; None for none
    guests: bool = True  # False: hidden from guests (they have no mailbox, for instance)

    @property
    def badge_id(self) -> str:
        """The element of the page the entry's count goes into."""
        return "badge-" + (self.path.strip("/").replace("/", "-") or "home")


@dataclass(frozen=True)
class SearchHit:
    kind: str
    title: str
    subtitle: str
    url: str


@dataclass(frozen=True)
class HomePanel:
    """What a module shows on the home page: a section titled ``title`` (translated),
    whose body is the module's template ``template`` rendered with ``context``."""

    title: str
    template: str
    context: Mapping[str, Any]


SearchProvider = Callable[["Principal", str, int], Awaitable[list[SearchHit]]]


@dataclass(frozen=True)
class AddressSuggestion:
    """An address offered while someone types recipients (the webmail's compose form):
    the name to show beside it, and where it comes from, translated ("Contacts")."""

    name: str
    address: str
    source: str = ""


# The addresses a principal may want to write to that match what they typed (their
# address books, the organisation's directory): ``(principal, query, limit)``. The
# module that completes addresses asks every subscribed module's providers, as the
# shell's search asks search providers, without importing them.
AddressSuggester = Callable[["Principal", str, int], Awaitable[list[AddressSuggestion]]]
# The module's panel of the home page for the principal, or None when it has nothing to show.
HomeProvider = Callable[["Principal"], Awaitable[HomePanel | None]]
EventHandler = Callable[[dict[str, Any]], Awaitable[None]]
Server = Callable[[], Coroutine[Any, Any, None]]  # run as a task of its own, so a coroutine
LiveHandler = Callable[[Any, Any], Awaitable[None]]  # core.live.Handler: (socket, caller), typed there


# A prefix is whole path segments without a trailing slash; the core's own stay the core's.
PREFIX = re.compile(r"(/[A-Za-z0-9._~-]+)+")
RESERVED_PREFIXES = frozenset({"api", "static", "login", "logout", "admin", "search", "notifications", "shell"})


def under(path: str, prefix: str) -> bool:
    """Whether ``path`` is ``prefix`` or below it, by whole segments (``/dav/files/x``
    is under ``/dav/files``, ``/dav/filesx`` is not)."""
    return path == prefix or path.startswith(prefix + "/")


class Lazy(Generic[T]):
    """A part of a descriptor given as the function that imports and returns it."""

    def __init__(self, load: Callable[[], T]):
        self.load = load


class _Part(Generic[T]):
    """A field of :class:`Module` that may be given :class:`Lazy`: loaded the first time
    it is read, then kept. (A dataclass field whose default is a descriptor: the
    constructor's argument goes through ``__set__``, reads through ``__get__``.)"""

    def __init__(self, default: T | Lazy[T]):
        self.default = default

    def __set_name__(self, owner: type, name: str) -> None:
        self.slot = f"_{name}"

    @overload
    def __get__(self, module: None, owner: type) -> T | Lazy[T]: ...
    @overload
    def __get__(self, module: Module, owner: type) -> T: ...
    def __get__(self, module: Module | None, owner: type) -> T | Lazy[T]:
        if module is None:  # the dataclass asks for the default
            return self.default
        value: T | Lazy[T] = getattr(module, self.slot)
        if isinstance(value, Lazy):
            value = value.load()
            setattr(module, self.slot, value)
        return value

    def __set__(self, module: Module, value: T | Lazy[T]) -> None:
        setattr(module, self.slot, value)


@dataclass
class Module:
    name: str
    label: str
    package_dir: Path
    subscribable: bool = True
    routes: _Part[Sequence[BaseRoute]] = _Part(())
    # Routes mounted at the root and answered to anyone, subscribed or not, signed in or
    # not: what a protocol fixes the path of (mail client autoconfiguration).
    public_routes: _Part[Sequence[BaseRoute]] = _Part(())
    # URL prefixes outside ``/<name>/`` that a protocol fixes (WebDAV's ``/dav/files``):
    # ``prefix_routes`` are mounted at the root, each under one of them, and the
    # subscription gate guards every prefix exactly as it guards ``/<name>/``.
    prefixes: Sequence[str] = ()
    prefix_routes: _Part[Sequence[BaseRoute]] = _Part(())
    api_routers: _Part[Sequence[APIRouter]] = _Part(())
    nav: _Part[Sequence[NavItem]] = _Part(())
    admin_nav: _Part[Sequence[NavItem]] = _Part(())  # tabs the module adds to the admin console
    search_providers: _Part[Sequence[SearchProvider]] = _Part(())
    address_suggestions: _Part[Sequence[AddressSuggester]] = _Part(())  # recipients completed as typed
    home: _Part[Sequence[HomeProvider]] = _Part(())  # panels of the home page (today's agenda)
    event_handlers: _Part[Mapping[str, Sequence[EventHandler]]] = _Part(Lazy(dict))  # a dict of its own
    servers: _Part[Sequence[Server]] = _Part(())
    # Long-lived WebSockets, path → handler, served off ASGI on the live port (core/live.py):
    # ``/<name>/…`` for pages (session cookie), ``/api/v1/<name>/…`` for programs (token).
    live: _Part[Mapping[str, LiveHandler]] = _Part(Lazy(dict))
    # The kinds of durable job the module runs, installed in the worker
    jobs: _Part[Sequence[JobSpec]] = _Part(())
    # Commands and command groups merged into the ``hexagone`` command (a group named
    # ``mail`` gives ``hexagone mail …``); see :mod:`hexagone.core.cli`.
    cli: typer.Typer | None = None
    export: _Part[Exporter | None] = _Part(None)  # the module's part of ``hexagone org export``
    models_module: str | None = None
    setup: _Part[Callable[[], None] | None] = _Part(None)  # called once when the app is built
    # Fills the demo organisation (``hexagone demo``)
    demo: _Part[Callable[[uuid.UUID], Awaitable[None]] | None] = _Part(None)

    def __post_init__(self) -> None:
        for prefix in self.prefixes:
            if not PREFIX.fullmatch(prefix) or prefix.split("/")[1] in RESERVED_PREFIXES:
                raise ValueError(f"module {self.name}: {prefix!r} is not a prefix it may take (/word[/word…])")

    def owns(self, path: str) -> bool:
        """Whether ``path`` lies under one of the module's :attr:`prefixes`."""
        return any(under(path, prefix) for prefix in self.prefixes)

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

    def address_suggesters(self, subscribed: Sequence[str]) -> list[AddressSuggester]:
        return [p for m in self.visible_to(subscribed) for p in m.address_suggestions]

    def home_providers(self, subscribed: Sequence[str]) -> list[HomeProvider]:
        return [p for m in self.visible_to(subscribed) for p in m.home]

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
