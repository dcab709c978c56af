"""The composition root: the only place that knows which modules are installed.

It loads each module's descriptor, hands its parts to the core (routes, API routers,
templates, catalogues, search providers, servers) and builds the ASGI application.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal
from collections.abc import AsyncIterator
from functools import lru_cache

from starlette.applications import Starlette
from starlette.routing import BaseRoute, Mount
from starlette.staticfiles import StaticFiles

from hexagone.core import blobs, i18n, jobs, live, pubsub, shell, templating
from hexagone.core.config import Settings, get_settings
from hexagone.core.db import dispose_engine, get_engine
from hexagone.core.errors import install_error_handlers
from hexagone.core.modules import Module, Registry, load_modules
from hexagone.core.pubsub import events
from hexagone.core.web import RequestContextMiddleware, SecurityHeadersMiddleware

INSTALLED_MODULES = ["hexagone.identity", "hexagone.mail", "hexagone.calendar", "hexagone.drive", "hexagone.chat"]

log = logging.getLogger("hexagone")


@lru_cache(maxsize=1)
def load_registry() -> Registry:
    names = INSTALLED_MODULES + [m for m in get_settings().extra_modules if m not in INSTALLED_MODULES]
    return load_modules(names)


def prepare(registry: Registry) -> None:
    """What every process needs of the modules, pages or not: catalogues, templates (mail
    and notifications are rendered by jobs and protocol servers too), the shell's parts
    and each module's own set-up."""
    i18n.load_catalogues([i18n.CORE_LOCALE_DIR] + [m.locale_dir for m in registry if m.locale_dir])
    templating.configure(
        [templating.Path(shell.TEMPLATES_DIR)] + [m.templates_dir for m in registry if m.templates_dir],
        {"brand_name": "Hexagone"},
    )
    shell.install(registry)
    for module in registry:
        if module.setup is not None:
            module.setup()


@contextlib.asynccontextmanager
async def background(registry: Registry, settings: Settings) -> AsyncIterator[None]:
    """What runs beside the pages, as ``HEXAGONE_SERVE_PARTS`` says: the modules' servers
    (``protocols``), the live sockets beside the pages (``web``) and the job worker
    (``jobs``); shut down cleanly on exit."""
    parts = settings.parts
    get_engine()
    events.install_handlers(registry)
    tasks = []
    if "protocols" in parts:
        tasks = [asyncio.create_task(server(), name=server.__qualname__) for m in registry for server in m.servers]
    if "web" in parts:
        serving = asyncio.create_task(live.serve_live(registry, settings), name="live")
        serving.add_done_callback(_log_failure)  # a port already taken: said now, not at shutdown
        tasks.append(serving)
    if "jobs" in parts and settings.jobs_concurrency > 0:
        tasks.append(asyncio.create_task(jobs.Worker(concurrency=settings.jobs_concurrency).run(), name="jobs"))
    # The 200,000 objects made by importing and building the app live as long as the
    # process: kept out of the collector's reach, a full collection no longer walks them
    # (about 90 ms each time, in the middle of whichever request triggered it; 0 after).
    gc.freeze()
    # The youngest generation keeps the default threshold (700): at 50,000 a 10,000-entry
    # PROPFIND took 150 ms of CPU instead of 160, but each collection then freed some
    # 40,000 objects in cycles (ORM states, parsed calendars) at once, 20-50 ms in the
    # middle of one request: a calendar PUT's p99 rose above 20 ms.
    try:
        yield
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await events.flush()
        await pubsub.close_bus()
        await blobs.close_store()
        await dispose_engine()


def _log_failure(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("%s stopped: %r", task.get_name(), task.exception())


async def serve_without_web(settings: Settings) -> None:
    """A process of ``hexagone serve`` without ``web`` in its parts: the protocol servers
    and/or the job worker until SIGTERM or SIGINT, beside web processes on the same
    database and event bus."""
    registry = load_registry()
    prepare(registry)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    async with background(registry, settings):
        log.info("serving %s without web", ", ".join(sorted(settings.parts)))
        await stop.wait()


def _prefix_routes(module: Module) -> list[BaseRoute]:
    """The module's routes mounted at the root, each of which must lie under one of its
    declared prefixes: one that did not would escape the subscription gate."""
    routes = list(module.prefix_routes)
    for route in routes:
        path = getattr(route, "path", "")
        if not module.owns(path):
            raise RuntimeError(f"module {module.name}: the route {path!r} lies under none of its prefixes")
    return routes


def create_app(settings: Settings | None = None) -> Starlette:
    from hexagone.core import api as core_api  # FastAPI: imported by the web processes only, not by each command

    settings = settings or get_settings()
    registry = load_registry()
    prepare(registry)

    routes = [
        *shell.routes(),
        Mount("/static", app=StaticFiles(directory=templating.STATIC_DIR), name="static"),
        Mount("/api/v1", app=core_api.build(registry)),
    ]
    # Before the modules' mounts: a public path may lie under a module's prefix.
    routes.extend(route for module in registry for route in module.public_routes)
    routes.extend(route for module in registry for route in _prefix_routes(module))
    for module in registry:
        if module.subscribable:
            routes.append(Mount(f"/{module.name}", routes=list(module.routes)))
        else:
            routes.extend(module.routes)

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        async with background(registry, settings):
            yield

    app = Starlette(routes=routes, lifespan=lifespan)
    install_error_handlers(app)
    app.add_middleware(shell.SubscriptionGate, registry=registry)
    app.add_middleware(RequestContextMiddleware, settings=settings)
    app.add_middleware(
        SecurityHeadersMiddleware,
        secure_cookies=settings.resolved_base_url.startswith("https://"),
        live_source=live.connect_source(settings) if live.live_routes(registry) else "",
    )
    return app
