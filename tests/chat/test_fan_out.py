"""Two server processes sharing one database and one bus: a message posted to one reaches
a socket open on the other, through Redis and through NATS (both on 127.0.0.1); presence
crosses too."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.chat.factories import channel, join, make_chat_org, make_member
from tests.chat.live import of_type, open_socket, send, session_cookie, until
from tests.conftest import Server

pytestmark = pytest.mark.usefixtures("migrated")

BUSES = {"redis": "redis://127.0.0.1:6379/0", "nats": "nats://127.0.0.1:4222"}


@pytest.fixture(scope="module", params=sorted(BUSES))
def two_servers(request: pytest.FixtureRequest, start_servers: Callable[..., list[Server]]) -> list[Server]:
    return start_servers(2, HEXAGONE_PUBSUB_URL=BUSES[request.param], HEXAGONE_WORKERS="1")


async def test_a_message_posted_on_one_process_reaches_a_socket_on_the_other(two_servers: list[Server]) -> None:
    first, second = two_servers
    org = await make_chat_org()
    alice_user, alice = await make_member(org)
    bob_user, bob = await make_member(org)
    room = await channel(alice)
    await join(bob, room)
    async with (
        await open_socket(first.base_url, await session_cookie(first.base_url, alice_user)) as alice_socket,
        await open_socket(second.base_url, await session_cookie(second.base_url, bob_user)) as bob_socket,
    ):
        await send(bob_socket, type="watch", users=[str(alice.user_id)])
        await until(bob_socket, lambda f: f["type"] == "presence" and f["states"] == {str(alice.user_id): "online"})
        await send(alice_socket, type="post", channel=str(room), text="d'un processus à l'autre")
        heard = await until(bob_socket, of_type("message"))
        assert heard["message"]["text"] == "d'un processus à l'autre"
        await send(alice_socket, type="state", state="dnd")
        await until(bob_socket, lambda f: f["type"] == "presence" and f["states"] == {str(alice.user_id): "dnd"})
        await send(alice_socket, type="typing", channel=str(room))
        typing = await until(bob_socket, of_type("typing"))
        assert typing == {"type": "typing", "channel": str(room), "user": str(alice.user_id)}
