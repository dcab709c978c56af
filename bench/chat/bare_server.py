"""The ceiling: a broadcast server written with the ``websockets`` library, nothing else.

    python bench/chat/bare_server.py --port 8765

Every text frame a client sends is answered with a short ``{"type":"posted"}`` to that
client (the acknowledgement the sender waits for, as Hexagone answers a post) and sent
as it is to every connected client with ``websockets.broadcast`` (which writes to each
socket without waiting, and skips those whose buffer is full). No authentication, no
storage, no JSON: what Python and this library cost per frame and per connection on this
machine. One process, one asyncio loop; permessage-deflate off, as for the load.
"""

from __future__ import annotations

import argparse
import asyncio
import resource

from websockets.asyncio.server import ServerConnection, broadcast, serve

ACK = '{"type":"posted"}'


async def main(port: int) -> None:
    connections: set[ServerConnection] = set()

    async def handler(socket: ServerConnection) -> None:
        connections.add(socket)
        try:
            async for frame in socket:
                if isinstance(frame, str):
                    await socket.send(ACK)
                    broadcast(connections, frame)
        finally:
            connections.discard(socket)

    async with serve(handler, "127.0.0.1", port, compression=None, ping_interval=None, max_queue=64) as server:
        await server.serve_forever()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    asyncio.run(main(args.port))
