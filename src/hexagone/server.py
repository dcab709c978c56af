"""Starting the ASGI server. Granian by default (measured faster than uvicorn on this
kind of app, see bench/README.md); uvicorn with ``HEXAGONE_SERVER=uvicorn``. Workers: as
many as asked, else :attr:`~hexagone.core.config.Settings.resolved_workers` (one per core
when the event bus crosses processes). Without ``web`` in ``HEXAGONE_SERVE_PARTS`` the
process runs the protocol servers and/or the job worker alone, with no HTTP."""

from __future__ import annotations

from hexagone.core.config import Settings


def serve(settings: Settings, *, host: str, port: int, workers: int = 0) -> None:
    if "web" not in settings.parts:  # protocol servers and/or jobs: no HTTP, one process
        import asyncio

        from hexagone.app import serve_without_web

        asyncio.run(serve_without_web(settings))
        return
    workers = workers or settings.resolved_workers
    if settings.server == "uvicorn":
        import uvicorn

        uvicorn.run(
            "hexagone.app:create_app",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            log_level=settings.log_level,
            proxy_headers=False,
            access_log=False,
        )
        return
    from granian.constants import Interfaces
    from granian.log import LogLevels
    from granian.server import Server

    Server(
        "hexagone.app:create_app",
        factory=True,
        address=host,
        port=port,
        interface=Interfaces.ASGI,
        workers=workers,
        log_level=LogLevels(settings.log_level),
        websockets=True,
    ).serve()
