"""A chat client for the tests: the ``websockets`` library (a client nobody here wrote)
talking to a real server's live port (core/live.py), signed in with the session cookie of the real login form or a
bearer token."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect

from hexagone.core.auth import SESSION_COOKIE
from tests.factories import TestUser, login
from tests.ports import LIVE_PORTS

WAIT = 10.0


async def session_cookie(base_url: str, user: TestUser) -> str:
    async with httpx.AsyncClient(base_url=base_url, follow_redirects=False, timeout=30) as browser:
        await login(browser, user)
        return browser.cookies[SESSION_COOKIE]


def live_port(base_url: str) -> int:
    """The port of the live server beside the pages at ``base_url``."""
    return LIVE_PORTS[base_url]


def ws_url(base_url: str, path: str = "/chat/live", after: int | None = None) -> str:
    url = f"ws://127.0.0.1:{live_port(base_url)}{path}"
    return url if after is None else f"{url}?after={after}"


async def open_socket(
    base_url: str,
    cookie: str | None = None,
    *,
    after: int | None = None,
    origin: str | None = "same",
    token: str | None = None,
    path: str | None = None,
    **options: Any,
) -> ClientConnection:
    """A socket, already past its ``hello`` (returned in ``socket.hello``); ``options``
    go to ``websockets``' ``connect`` (``sock``, ``max_queue``)."""
    headers: dict[str, str] = {}
    if cookie is not None:
        headers["Cookie"] = f"{SESSION_COOKIE}={cookie}"
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    if origin is not None:
        headers["Origin"] = base_url if origin == "same" else origin
    where = path or ("/api/v1/chat/live" if token else "/chat/live")
    socket = await connect(ws_url(base_url, where, after), additional_headers=headers, open_timeout=WAIT, **options)
    hello = await receive(socket)
    assert hello["type"] == "hello", hello
    socket.hello = hello  # type: ignore[attr-defined]
    return socket


async def receive(socket: ClientConnection) -> dict[str, Any]:
    return dict(json.loads(await asyncio.wait_for(socket.recv(), WAIT)))


async def until(socket: ClientConnection, wanted: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
    """The first frame ``wanted`` accepts (others are skipped: presence, typing…)."""
    while True:
        frame = await receive(socket)
        if wanted(frame):
            return frame


async def send(socket: ClientConnection, **frame: Any) -> None:
    await socket.send(json.dumps(frame))


def of_type(kind: str) -> Callable[[dict[str, Any]], bool]:
    return lambda frame: frame.get("type") == kind
