"""The composition root: the only place that knows which modules are installed.

It loads each module's descriptor, hands its parts to the core (routes, API routers,
templates, catalogues, search providers, servers) and builds the ASGI application.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from functools import lru_cache

from starlette.applications import Starlette
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles

from hexagone.core import api as core_api
from hexagone.core import blobs, i18n, jobs, pubsub, shell, templating
from hexagone.core.config import Settings, get_settings
from hexagone.core.db import dispose_engine, get_engine
from hexagone.core.errors import install_error_handlers
from hexagone.core.modules import Registry, load_modules
from hexagone.core.pubsub import events
from hexagone.core.web import RequestContextMiddleware, SecurityHeadersMiddleware

INSTALLED_MODULES = ["hexagone.identity", "hexagone.mail"]

log = logging.getLogger("hexagone")


@lru_cache(maxsize=1)
def load_registry() -> Registry:
    names = INSTALLED_MODULES + [m for m in get_settings().extra_modules if m not in INSTALLED_MODULES]
    return load_modules(names)


def create_app(settings: Settings | None = None) -> Starlette:
    settings = settings or get_settings()
    registry = load_registry()
    i18n.load_catalogues([i18n.CORE_LOCALE_DIR] + [m.locale_dir for m in registry if m.locale_dir])
    templating.configure(
        [templating.Path(shell.TEMPLATES_DIR)] + [m.templates_dir for m in registry if m.templates_dir],
        {"brand_name": "Hexagone"},
    )
    shell.install(registry)
    for module in registry:
        if module.setup is not None:
            module.setup()

    routes = [
        *shell.routes(),
        Mount("/static", app=StaticFiles(directory=templating.STATIC_DIR), name="static"),
        Mount("/api/v1", app=core_api.build(registry)),
    ]
    # Before the modules' mounts: a public path may lie under a module's prefix.
    routes.extend(route for module in registry for route in module.public_routes)
    for module in registry:
        if module.subscribable:
            routes.append(Mount(f"/{module.name}", routes=list(module.routes)))
        else:
            routes.extend(module.routes)

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        get_engine()
        events.install_handlers(registry)
        tasks = [asyncio.create_task(server(), name=server.__qualname__) for m in registry for server in m.servers]
        if settings.jobs_concurrency > 0:
            tasks.append(asyncio.create_task(jobs.Worker(concurrency=settings.jobs_concurrency).run(), name="jobs"))
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

    app = Starlette(routes=routes, lifespan=lifespan)
    install_error_handlers(app)
    app.add_middleware(shell.SubscriptionGate, registry=registry)
    app.add_middleware(RequestContextMiddleware, settings=settings)
    app.add_middleware(SecurityHeadersMiddleware, secure_cookies=settings.resolved_base_url.startswith("https://"))
    return app
