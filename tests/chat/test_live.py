"""The chat's WebSocket over a real server, with the ``websockets`` library: live delivery
to the members of a conversation and to nobody else, resuming after a dropped
connection, and every kind of caller at the handshake."""

from __future__ import annotations

import asyncio
import socket
import uuid

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from hexagone.core import notifications
from hexagone.core.db import org_session, system_session
from hexagone.identity.models import Space
from hexagone.identity.service import spaces
from tests.chat.factories import MODULES, channel, join, make_chat_org, make_member, space_channel
from tests.chat.live import live_port, of_type, open_socket, receive, send, session_cookie, until, ws_url
from tests.factories import TestUser, csrf_token, login, make_org, make_space, make_user, principal
from tests.mail.api.helpers import token_for

pytestmark = pytest.mark.usefixtures("migrated")


async def test_a_message_posted_on_one_socket_reaches_the_other_members_at_once(base_url: str) -> None:
    org = await make_chat_org()
    alice_user, alice = await make_member(org)
    bob_user, bob = await make_member(org)
    carol_user, _carol = await make_member(org)
    room = await channel(alice)
    await join(bob, room)
    carol_cookie = await session_cookie(base_url, carol_user)
    async with (
        await open_socket(base_url, await session_cookie(base_url, alice_user)) as alice_socket,
        await open_socket(base_url, await session_cookie(base_url, bob_user)) as bob_socket,
        await open_socket(base_url, carol_cookie) as carol_socket,
    ):
        await send(alice_socket, type="post", channel=str(room), text="Bonjour **Bob**", client_id="c1", ref=7)
        posted = await until(alice_socket, of_type("posted"))
        assert posted["ref"] == 7 and posted["message"]["text"] == "Bonjour **Bob**"
        heard = await until(bob_socket, of_type("message"))
        assert heard["message"]["id"] == posted["message"]["id"]
        assert "<strong>Bob</strong>" in heard["message"]["html"]
        assert heard["seq"] == posted["message"]["seq"]
        await send(carol_socket, type="ping")
        assert (await receive(carol_socket))["type"] == "pong"  # carol, not a member, heard nothing before


async def test_at_here_over_a_socket_notifies_the_members_connected_and_not_the_others(base_url: str) -> None:
    org = await make_chat_org()
    alice_user, alice = await make_member(org)
    bob_user, bob = await make_member(org)
    _carol_user, carol = await make_member(org)
    room = await channel(alice)
    await join(bob, room)
    await join(carol, room)
    async with (
        await open_socket(base_url, await session_cookie(base_url, alice_user)) as alice_socket,
        await open_socket(base_url, await session_cookie(base_url, bob_user)),
    ):
        await send(alice_socket, type="post", channel=str(room), text="@here on commence")
        assert (await until(alice_socket, of_type("posted")))["message"]["text"] == "@here on commence"
    async with system_session() as db:
        assert len(await notifications.latest(db, bob.user_id)) == 1
        assert await notifications.latest(db, carol.user_id) == []  # no socket open


async def test_a_message_posted_through_the_api_reaches_the_sockets(base_url: str, client: httpx.AsyncClient) -> None:
    org = await make_chat_org()
    alice_user, alice = await make_member(org)
    bob_user, bob = await make_member(org)
    room = await channel(alice)
    await join(bob, room)
    token = await token_for(base_url, alice_user)
    async with await open_socket(base_url, await session_cookie(base_url, bob_user)) as bob_socket:
        response = await client.post(
            f"/api/v1/chat/channels/{room}/messages",
            json={"text": "par l'API"},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert response.status_code == 201, response.text
        heard = await until(bob_socket, of_type("message"))
        assert heard["message"]["text"] == "par l'API"


async def test_a_client_that_reconnects_after_its_last_number_gets_what_it_missed_once(base_url: str) -> None:
    org = await make_chat_org()
    alice_user, alice = await make_member(org)
    bob_user, bob = await make_member(org)
    room = await channel(alice)
    await join(bob, room)
    alice_cookie = await session_cookie(base_url, alice_user)
    bob_cookie = await session_cookie(base_url, bob_user)
    async with await open_socket(base_url, bob_cookie) as bob_socket:
        seen = bob_socket.hello["head"]  # type: ignore[attr-defined]
    async with await open_socket(base_url, alice_cookie) as alice_socket:
        for n in range(3):
            await send(alice_socket, type="post", channel=str(room), text=f"manqué {n}")
            await until(alice_socket, of_type("posted"))
        await send(alice_socket, type="post", channel=str(room), text="pendant la reprise")
        async with await open_socket(base_url, bob_cookie, after=seen) as bob_again:
            texts = []
            while len(texts) < 4:
                frame = await until(bob_again, of_type("message"))
                texts.append(frame["message"]["text"])
            assert texts == ["manqué 0", "manqué 1", "manqué 2", "pendant la reprise"]
            await send(bob_again, type="ping")
            assert (await until(bob_again, lambda f: f["type"] in ("message", "pong")))["type"] == "pong"


async def test_a_space_channel_reaches_its_members_guests_included_and_nobody_else(base_url: str) -> None:
    org = await make_chat_org()
    owner_user = await make_user(org)
    guest_user = await make_user(org, role="guest")
    outsider_user = await make_user(org)
    space = await make_space(owner_user, members={guest_user: "member"})
    owner = await principal(owner_user)
    general = await space_channel(owner, space.id)
    async with (
        await open_socket(base_url, await session_cookie(base_url, guest_user)) as guest_socket,
        await open_socket(base_url, await session_cookie(base_url, outsider_user)) as outsider_socket,
        await open_socket(base_url, await session_cookie(base_url, owner_user)) as owner_socket,
    ):
        await send(owner_socket, type="post", channel=str(general), text="Bienvenue")
        assert (await until(guest_socket, of_type("message")))["message"]["text"] == "Bienvenue"
        await send(guest_socket, type="post", channel=str(general), text="Merci")
        assert (await until(guest_socket, of_type("posted")))["message"]["text"] == "Merci"
        await send(outsider_socket, type="post", channel=str(general), text="intrus", ref="x")
        refused = await until(outsider_socket, of_type("error"))
        assert refused["status"] == 404 and refused["ref"] == "x"


async def _refused(base_url: str, **options: object) -> int:
    with pytest.raises(InvalidStatus) as refused:
        await open_socket(base_url, **options)  # type: ignore[arg-type]
    return refused.value.response.status_code


async def test_the_handshake_is_refused_to_anonymous_callers_other_sites_and_unsubscribed_organisations(
    base_url: str,
) -> None:
    member = await make_user(await make_chat_org())
    cookie = await session_cookie(base_url, member)
    assert await _refused(base_url) == 404  # no session: as every page of the module
    assert await _refused(base_url, cookie="not-a-session") == 404
    assert await _refused(base_url, cookie=cookie, origin="https://evil.example") == 403
    assert await _refused(base_url, cookie=cookie, origin=None) == 403  # a browser always sends one
    elsewhere = await make_user(await make_org(modules=("drive",)))
    assert await _refused(base_url, cookie=await session_cookie(base_url, elsewhere)) == 404
    async with await open_socket(base_url, cookie) as socket:
        assert socket.hello["user"] == str(member.id)  # type: ignore[attr-defined]


async def test_a_bearer_token_opens_the_api_socket_and_not_the_page_one(base_url: str) -> None:
    org = await make_chat_org()
    user = await make_user(org)
    token = await token_for(base_url, user)
    async with await open_socket(base_url, token=token, origin=None) as socket:
        await send(socket, type="ping")
        assert (await receive(socket))["type"] == "pong"
    assert await _refused(base_url, token=token, origin=None, path="/chat/live") == 401  # tokens open /api only
    assert await _refused(base_url, token="forged", origin=None) == 401


async def test_a_session_still_owing_its_second_factor_cannot_open_a_socket(base_url: str) -> None:
    user = await make_user(await make_chat_org(), mfa=True)
    async with httpx.AsyncClient(base_url=base_url, follow_redirects=False, timeout=30) as browser:
        await login(browser, user, second_factor=False)
        pending = browser.cookies["hx_session"]
    assert await _refused(base_url, cookie=pending) == 401  # the second-factor gate's answer


async def test_a_session_that_owes_its_enrolment_in_a_second_factor_cannot_open_a_socket(base_url: str) -> None:
    user = await make_user(await make_org(modules=MODULES, mfa_required=True))  # signs in, not yet enrolled
    async with httpx.AsyncClient(base_url=base_url, follow_redirects=False, timeout=30) as browser:
        await login(browser, user, second_factor=False)
        assert (await browser.get("/chat/")).headers["location"] == "/account/mfa"
        owing = browser.cookies["hx_session"]
    assert await _refused(base_url, cookie=owing) == 401


async def test_a_handshake_with_a_repeated_credential_or_another_schemes_origin_is_refused(base_url: str) -> None:
    member = await make_user(await make_chat_org())
    cookie = await session_cookie(base_url, member)
    assert await _refused(base_url, cookie=cookie, origin=base_url.replace("http://", "https://")) == 403
    with pytest.raises(InvalidStatus) as refused:
        await connect(
            ws_url(base_url),
            additional_headers=[("Cookie", f"hx_session={cookie}"), ("Cookie", "x=y"), ("Origin", base_url)],
        )
    assert refused.value.response.status_code == 400


async def test_a_frame_nested_too_deep_for_the_parser_is_a_bad_frame_not_a_crash(base_url: str) -> None:
    cookie = await session_cookie(base_url, await make_user(await make_chat_org()))
    async with await open_socket(base_url, cookie) as socket:
        await socket.send("[" * 60_000)
        assert (await receive(socket))["status"] == 400
        await send(socket, type="ping")
        assert (await receive(socket))["type"] == "pong"  # still open


async def test_signing_out_closes_the_sockets_that_sign_in_opened(base_url: str) -> None:
    user = await make_user(await make_chat_org())
    async with httpx.AsyncClient(base_url=base_url, follow_redirects=False, timeout=30) as browser:
        await login(browser, user)
        cookie = browser.cookies["hx_session"]
        async with await open_socket(base_url, cookie) as socket:
            token = await csrf_token(browser, "/")
            assert (await browser.post("/logout", data={"csrf_token": token})).status_code == 303
            with pytest.raises(ConnectionClosed) as closed:
                while True:
                    await receive(socket)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401


async def _closed_with(socket, frames: list[str | bytes]) -> int:  # type: ignore[no-untyped-def]
    with pytest.raises(ConnectionClosed) as closed:
        for frame in frames:
            await socket.send(frame)
        while True:
            await receive(socket)
    assert closed.value.rcvd is not None
    return closed.value.rcvd.code


async def test_bad_frames_get_an_error_and_persistent_ones_close_the_socket(base_url: str) -> None:
    user = await make_user(await make_chat_org())
    cookie = await session_cookie(base_url, user)
    async with await open_socket(base_url, cookie) as socket:
        await socket.send("pas du JSON")
        assert (await receive(socket))["status"] == 400
        await send(socket, type="inconnu")
        assert (await receive(socket))["status"] == 400
        await send(socket, type="post", channel="pas-un-id", text="x")
        assert (await receive(socket))["status"] == 400
        await send(socket, type="post", channel=str(uuid.uuid4()), text="x")
        assert (await receive(socket))["status"] == 404
        await send(socket, type="post", channel=str(uuid.uuid4()), text="")
        assert (await receive(socket))["status"] == 400
    async with await open_socket(base_url, cookie) as socket:
        assert await _closed_with(socket, ["[1]"] * 5) == 1007
    async with await open_socket(base_url, cookie) as socket:
        assert await _closed_with(socket, [b"\x00binary"]) == 1003
    async with await open_socket(base_url, cookie) as socket:
        assert await _closed_with(socket, ['{"type":"ping","pad":"' + "x" * 70_000 + '"}']) == 1009


async def test_a_flood_is_refused_with_429_then_closed(base_url: str) -> None:
    """Posts are counted before anything else is read of them (here they name no
    conversation, so that the count does not depend on how fast the database answers):
    past a burst of 15 they are refused with 429; frames past the socket's limit close it."""
    user_row = await make_user(await make_chat_org())
    cookie = await session_cookie(base_url, user_row)
    async with await open_socket(base_url, cookie) as socket:
        for n in range(40):
            await send(socket, type="post", channel="nulle-part", text=f"flood {n}")
        statuses = [(await until(socket, of_type("error")))["status"] for _ in range(40)]
        assert set(statuses) == {400, 429}
        assert 15 <= statuses.count(400) < 25 and statuses[:15] == [400] * 15
    async with await open_socket(base_url, cookie) as socket:
        assert await _closed_with(socket, ['{"type":"ping"}'] * 200) == 1008


async def test_a_member_added_while_connected_starts_hearing_the_channel(base_url: str) -> None:
    org = await make_chat_org()
    alice_user, alice = await make_member(org)
    bob_user: TestUser = await make_user(org)
    room = await channel(alice)
    alice_cookie = await session_cookie(base_url, alice_user)
    async with (
        await open_socket(base_url, await session_cookie(base_url, bob_user)) as bob_socket,
        await open_socket(base_url, alice_cookie) as alice_socket,
    ):
        async with httpx.AsyncClient(base_url=base_url, timeout=30) as api:
            token = await token_for(base_url, alice_user)
            response = await api.post(
                f"/api/v1/chat/channels/{room}/members",
                json={"users": [str(bob_user.id)]},
                headers={"Authorization": f"Bearer {token}"},
            )
            assert response.status_code == 204, response.text
        joined = await until(bob_socket, of_type("joined"))
        assert joined["channel"] == str(room)
        await asyncio.sleep(0)  # the hub follows the channel for bob's socket on that frame
        await send(alice_socket, type="post", channel=str(room), text="Bienvenue Bob")
        assert (await until(bob_socket, of_type("message")))["message"]["text"] == "Bienvenue Bob"


async def test_a_client_that_never_reads_is_closed_and_the_others_lose_nothing(base_url: str) -> None:
    """Twelve people post 180 large messages (8 MB to each reader) while one member's socket reads nothing (its
    receive buffer a few KiB): the server stops queueing for it and closes it (1013 when
    it can still say so: reconnect and resume), and a member who reads gets every message."""
    org = await make_chat_org()
    _owner_user, owner = await make_member(org)
    room = await channel(owner)
    posters = [await make_member(org) for _ in range(12)]
    for _user, poster in posters:
        await join(poster, room)
    slow_user, slow = await make_member(org)
    await join(slow, room)
    reader_user, reader = await make_member(org)
    await join(reader, room)
    tiny = socket.socket()
    tiny.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    tiny.connect(("127.0.0.1", live_port(base_url)))
    slow_socket = await open_socket(base_url, await session_cookie(base_url, slow_user), sock=tiny, max_queue=1)
    reader_socket = await open_socket(base_url, await session_cookie(base_url, reader_user))
    big = "<" * 9_000  # 45 KB a frame: its HTML escapes every character

    async def read_all() -> int:
        received = 0
        while received < 15 * len(posters):
            await until(reader_socket, of_type("message"))
            received += 1
        return received

    reading = asyncio.create_task(read_all())
    for number, (poster_user, _poster) in enumerate(posters):  # one at a time: each hears little
        async with await open_socket(base_url, await session_cookie(base_url, poster_user)) as poster_socket:
            for n in range(15):
                await send(poster_socket, type="post", channel=str(room), text=f"{number}-{n} {big}")
            for _ in range(15):
                assert (await until(poster_socket, lambda f: f["type"] in ("posted", "error")))["type"] == "posted"
    assert await asyncio.wait_for(reading, 120) == 15 * len(posters)
    with pytest.raises(ConnectionClosed) as closed:  # what was in the buffers, then the end
        while True:
            await asyncio.wait_for(slow_socket.recv(), 30)
    # 1013 when the close frame still fits in the buffers; else the server drops the
    # connection after waiting for it (no close frame: 1006 on the client's side).
    assert closed.value.rcvd is None or closed.value.rcvd.code == 1013
    await reader_socket.close()


async def test_a_member_removed_from_a_space_stops_hearing_and_writing_its_channel(base_url: str) -> None:
    org = await make_chat_org()
    owner_user = await make_user(org)
    guest_user = await make_user(org, role="guest")
    space = await make_space(owner_user, members={guest_user: "member"})
    owner = await principal(owner_user)
    general = await space_channel(owner, space.id)
    async with (
        await open_socket(base_url, await session_cookie(base_url, guest_user)) as guest_socket,
        await open_socket(base_url, await session_cookie(base_url, owner_user)) as owner_socket,
    ):
        await send(owner_socket, type="post", channel=str(general), text="avant")
        assert (await until(guest_socket, of_type("message")))["message"]["text"] == "avant"
        async with org_session(org.id, write=True) as db:
            row = await db.get(Space, space.id)
            await spaces.remove_member(db, owner, row, guest_user.id)  # type: ignore[arg-type]
            await db.commit()
        await asyncio.sleep(2.5)  # the socket asks again every second in the tests (60 s by default)
        await send(owner_socket, type="post", channel=str(general), text="après")
        await until(owner_socket, of_type("posted"))
        await send(guest_socket, type="post", channel=str(general), text="encore là ?", ref="late")
        answer = await until(guest_socket, lambda f: f["type"] in ("message", "error"))
        assert answer["type"] == "error" and answer["status"] == 404 and answer["ref"] == "late"
