"""The live server's keepalive (core/live.py): one task pings every socket, and drops
those whose peer never answers, while a client that answers stays connected. A real
``websockets`` server and client in this process; the silent peer is a raw socket that
completes the handshake and then reads nothing."""

from __future__ import annotations

import asyncio
import base64
import os
from pathlib import Path

import pytest
from websockets.asyncio.client import connect
from websockets.asyncio.server import ServerConnection, serve

from hexagone.core import live
from hexagone.core.config import Settings
from hexagone.core.modules import Module, Registry


async def _silent_peer(port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    key = base64.b64encode(os.urandom(16)).decode()
    writer.write(
        (
            f"GET / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        ).encode()
    )
    assert (await reader.readuntil(b"\r\n\r\n")).startswith(b"HTTP/1.1 101")
    return reader, writer


EVERY = 0.2  # seconds between pings here (PING_EVERY in the server)


async def test_keep_alive_drops_a_silent_peer_and_keeps_one_that_answers() -> None:
    every = EVERY
    ended: list[ServerConnection] = []

    async def handler(socket: ServerConnection) -> None:
        await socket.wait_closed()
        ended.append(socket)

    async with serve(handler, "127.0.0.1", 0, ping_interval=None) as server:
        port = server.sockets[0].getsockname()[1]
        pinging = asyncio.create_task(live.keep_alive(server, every=every))
        try:
            _reader, writer = await _silent_peer(port)
            async with connect(f"ws://127.0.0.1:{port}/", ping_interval=None) as answering:
                reading = asyncio.create_task(answering.recv())  # answers pings while it waits
                for _ in range(50):
                    if ended:
                        break
                    await asyncio.sleep(every)
                assert len(ended) == 1  # after one unanswered ping: the silent one
                assert ended[0].remote_address[1] == writer.get_extra_info("sockname")[1]
                await asyncio.sleep(every * 3)
                assert len(ended) == 1 and len(server.connections) == 1  # the other stays
                await answering.ping()  # and still answers
                reading.cancel()
            writer.close()
        finally:
            pinging.cancel()


def test_public_url_is_the_base_urls_host_on_the_live_port_unless_a_proxy_url_is_set() -> None:
    settings = Settings(base_url="https://suite.example.fr", live_port=8101)
    assert live.public_url(settings, "/chat/live") == "wss://suite.example.fr:8101/chat/live"
    assert live.connect_source(settings) == "wss://suite.example.fr:8101"
    v6 = Settings(base_url="http://[::1]:8000", live_port=8101)
    assert live.public_url(v6, "/chat/live") == "ws://[::1]:8101/chat/live"
    proxied = Settings(base_url="https://suite.example.fr", live_url="wss://suite.example.fr/")
    assert live.public_url(proxied, "/chat/live") == "wss://suite.example.fr/chat/live"
    assert live.connect_source(proxied) == "wss://suite.example.fr"


def test_a_module_may_not_take_a_live_path_outside_its_own() -> None:
    async def handler(_socket: object, _caller: object) -> None:
        return None

    stray = Module(name="notes", label="Notes", package_dir=Path("."), live={"/chat/live": handler})
    with pytest.raises(RuntimeError, match="not under /notes/"):
        live.live_routes(Registry([stray]))
    own = Module(name="notes", label="Notes", package_dir=Path("."), live={"/api/v1/notes/live": handler})
    assert live.live_routes(Registry([own]))["/api/v1/notes/live"].module == "notes"
