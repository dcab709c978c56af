"""Serve a yardstick application (:mod:`bare_app` by default, or :mod:`fastapi_app`)
exactly as ``hexagone serve`` serves Hexagone: same ASGI server, same options, same number
of workers (mirrors ``src/hexagone/server.py``; keep the two in step, or the ratio stops
meaning anything).

    python bench/serve_bare.py granian|uvicorn PORT WORKERS [bare_app|fastapi_app]
"""

from __future__ import annotations

import sys


def main(server: str, port: int, workers: int, app: str = "bare_app") -> None:
    target = f"{app}:create_app"
    if server == "uvicorn":
        import uvicorn

        uvicorn.run(
            target,
            factory=True,
            host="127.0.0.1",
            port=port,
            workers=workers,
            log_level="warning",
            proxy_headers=False,
            access_log=False,
        )
        return
    from granian.constants import Interfaces
    from granian.server import Server

    Server(
        target,
        factory=True,
        address="127.0.0.1",
        port=port,
        interface=Interfaces.ASGI,
        workers=workers,
        log_level="warning",
        websockets=True,
    ).serve()


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), *sys.argv[4:5])
