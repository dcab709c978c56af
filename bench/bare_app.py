"""The yardstick: a bare Starlette application with no middleware, no database and no
templates, so that ``hexagone``'s figures can be read as a ratio to what the ASGI server
and Starlette alone can do on the same machine, served the same way.

``GET /`` answers a small fixed HTML page, ``GET /json`` a small fixed JSON object.
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

PAGE = "<!doctype html><html lang=en><head><title>Bare</title></head><body><h1>Hello</h1></body></html>"


async def page(_request: Request) -> Response:
    return HTMLResponse(PAGE)


async def data(_request: Request) -> Response:
    return JSONResponse({"id": "00000000-0000-0000-0000-000000000000", "email": "bob@example.test", "name": "Bob"})


def create_app() -> Starlette:
    return Starlette(routes=[Route("/", page), Route("/json", data)])
