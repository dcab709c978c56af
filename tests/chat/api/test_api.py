"""The chat's JSON API: a conversation through its routes with a token from our provider,
and every route against every kind of caller (anonymous, guest, user, administrator,
another organisation, a session owing its second factor, the member's own session)."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from tests.chat.factories import channel, join, make_chat_org, make_member, say, upload
from tests.drive.api.helpers import session_headers
from tests.drive.extraction.documents import jpeg
from tests.factories import TestUser, login, make_org, make_user
from tests.mail.api.helpers import token_for
from tests.oidc.factories_oidc import bearer

pytestmark = pytest.mark.usefixtures("migrated")

API = "/api/v1/chat"


async def headers_of(base_url: str, user: TestUser) -> dict[str, str]:
    """A bearer token's headers; a guest, to whom our provider gives no token, calls with
    their session."""
    if user.role == "guest":
        return await session_headers(base_url, user)
    return bearer(await token_for(base_url, user))


async def test_a_conversation_through_the_api(client: httpx.AsyncClient, base_url: str) -> None:
    org = await make_chat_org()
    alice_user, _alice = await make_member(org)
    bob_user, _bob = await make_member(org)
    alice, bob = await headers_of(base_url, alice_user), await headers_of(base_url, bob_user)
    made = await client.post(f"{API}/channels", json={"name": "projet-x", "topic": "Le projet"}, headers=alice)
    assert made.status_code == 201, made.text
    room = made.json()["id"]
    assert made.json()["abilities"]["manage"] is True
    again = await client.post(f"{API}/channels", json={"name": "PROJET-X"}, headers=bob)
    assert again.status_code == 409
    assert (await client.post(f"{API}/channels/{room}/join", headers=bob)).status_code == 204
    posted = await client.post(f"{API}/channels/{room}/messages", json={"text": "Salut _Bob_"}, headers=alice)
    assert posted.status_code == 201 and "<em>Bob</em>" in posted.json()["html"]
    message = posted.json()["id"]
    reply = await client.post(f"{API}/channels/{room}/messages", json={"text": "ok", "thread": message}, headers=bob)
    assert reply.status_code == 201
    thread = (await client.get(f"{API}/messages/{message}/thread", headers=alice)).json()
    assert thread["root"]["reply_count"] == 1 and [r["text"] for r in thread["replies"]] == ["ok"]
    mine = {c["id"]: c for c in (await client.get(f"{API}/channels", headers=bob)).json()}
    assert mine[room]["unread"] == 1  # alice's message: a reply in its thread does not read the channel
    marked = await client.post(f"{API}/channels/{room}/read", json={"seq": posted.json()["seq"]}, headers=bob)
    assert marked.json() == {"read": posted.json()["seq"]}
    mine = {c["id"]: c for c in (await client.get(f"{API}/channels", headers=bob)).json()}
    assert mine[room]["unread"] == 0
    assert (await client.put(f"{API}/messages/{message}/reactions/👍", headers=bob)).json()["reactions"] == {
        "👍": [str(bob_user.id)]
    }
    assert (await client.put(f"{API}/messages/{message}/pin", headers=bob)).json()["pinned"] is True
    assert [m["id"] for m in (await client.get(f"{API}/channels/{room}/pins", headers=alice)).json()] == [message]
    edited = await client.patch(f"{API}/messages/{message}", json={"text": "Salut Bob !"}, headers=alice)
    assert edited.json()["edited_at"] is not None
    assert (await client.patch(f"{API}/messages/{message}", json={"text": "x"}, headers=bob)).status_code == 403
    exported = await client.get(f"{API}/channels/{room}/export", headers=bob)
    assert exported.status_code == 200
    assert [m["text"] for m in exported.json()["messages"]] == ["Salut Bob !", "ok"]
    assert (await client.delete(f"{API}/messages/{message}", headers=alice)).status_code == 204
    history = (await client.get(f"{API}/channels/{room}/messages", headers=bob)).json()
    assert history[0]["deleted"] is True and history[0]["text"] == ""
    talk = await client.post(f"{API}/direct", json={"users": [str(bob_user.id)]}, headers=alice)
    assert talk.json()["kind"] == "direct" and talk.json()["people"] == [str(bob_user.id)]
    same = await client.post(f"{API}/direct", json={"users": [str(alice_user.id)]}, headers=bob)
    assert same.json()["id"] == talk.json()["id"]


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/channels", {"name": ""}),
        ("/channels", {"name": "x" * 81}),
        ("/channels", {"name": "a\u0000b"}),
        ("/direct", {"users": []}),
        ("/direct", {"users": ["not-an-id"]}),
    ],
)
async def test_bad_bodies_are_refused_with_a_message(
    client: httpx.AsyncClient, base_url: str, path: str, body: dict[str, object]
) -> None:
    user = await make_user(await make_chat_org())
    answer = await client.post(API + path, json=body, headers=await headers_of(base_url, user))
    assert (answer.status_code in (400, 422) and "error" in answer.json()) or "detail" in answer.json()


async def test_uploads_count_as_posts_and_a_flood_of_them_is_refused_with_429(
    client: httpx.AsyncClient, base_url: str
) -> None:
    user, me = await make_member()
    room = await channel(me)
    headers = await headers_of(base_url, user)
    started = time.monotonic()
    answers = [
        await client.post(f"{API}/channels/{room}/files", params={"name": f"{n}.txt"}, content=b"x", headers=headers)
        for n in range(40)
    ]
    elapsed = time.monotonic() - started
    statuses = [answer.status_code for answer in answers]
    # A burst of 15, then 5 a second: no more pass than that in the time the 40 took (on any
    # machine where 40 small uploads take under 5 s, some are refused), each refusal saying why.
    allowed = 15 + 5 * elapsed + 1
    assert statuses[:15] == [201] * 15 and set(statuses) <= {201, 429}, statuses
    assert statuses.count(201) <= allowed, (statuses, elapsed)
    assert all("error" in answer.json() for answer in answers if answer.status_code == 429)


FILE = "a file"


def _body(body: object) -> dict[str, Any]:
    """The request's body: JSON, or a file's bytes for the upload route."""
    return {"content": b"intrus"} if body == FILE else {"json": body}


async def test_files_through_the_api_uploaded_sent_downloaded_by_range_previewed_and_saved(
    client: httpx.AsyncClient, base_url: str
) -> None:
    org = await make_org(modules=("chat", "drive"))
    alice_user, alice = await make_member(org)
    bob_user, bob = await make_member(org)
    room = await channel(alice)
    await join(bob, room)
    headers = await headers_of(base_url, alice_user)
    photo = jpeg(800, 600)
    uploaded = await client.post(
        f"{API}/channels/{room}/files",
        params={"name": "été.jpg"},
        content=photo,
        headers={**headers, "Content-Type": "image/jpeg"},
    )
    assert uploaded.status_code == 201, uploaded.text
    sent = uploaded.json()
    assert sent["name"] == "été.jpg" and sent["size"] == len(photo) and sent["preview"] is True
    text_file = await client.post(
        f"{API}/channels/{room}/files", params={"name": "notes.txt"}, content=b"0123456789", headers=headers
    )
    assert text_file.json()["content_type"] == "text/plain"  # no type said: the name's
    posted = await client.post(
        f"{API}/channels/{room}/messages",
        json={"attachments": [sent["id"], text_file.json()["id"]]},
        headers=headers,
    )
    assert posted.status_code == 201, posted.text
    assert [a["name"] for a in posted.json()["attachments"]] == ["été.jpg", "notes.txt"]
    reader = await headers_of(base_url, bob_user)
    whole = await client.get(f"{API}/files/{sent['id']}", headers=reader)
    assert whole.status_code == 200 and whole.content == photo
    assert whole.headers["content-disposition"].startswith("attachment;")
    assert whole.headers["x-content-type-options"] == "nosniff"
    part = await client.get(f"{API}/files/{text_file.json()['id']}", headers={**reader, "Range": "bytes=2-5"})
    assert part.status_code == 206 and part.content == b"2345"
    assert part.headers["content-range"] == "bytes 2-5/10"
    past = await client.get(f"{API}/files/{text_file.json()['id']}", headers={**reader, "Range": "bytes=50-"})
    assert past.status_code == 416
    preview = await client.get(f"{API}/files/{sent['id']}/preview", headers=reader)
    assert preview.status_code == 200 and preview.headers["content-type"] == "image/png"
    assert "content-disposition" not in preview.headers
    none = await client.get(f"{API}/files/{text_file.json()['id']}/preview", headers=reader)
    assert none.status_code == 404 and "error" in none.json()
    again = await client.post(f"{API}/channels/{room}/messages", json={"attachments": [sent["id"]]}, headers=headers)
    assert again.status_code == 404  # sent already
    empty = await client.post(f"{API}/channels/{room}/messages", json={"text": ""}, headers=headers)
    assert empty.status_code in (400, 422) and "error" in empty.json()
    saved = await client.post(f"{API}/files/{sent['id']}/drive", headers=reader)
    assert saved.status_code == 201 and saved.json()["name"] == "été.jpg"
    copy = await client.get(f"/api/v1/drive/files/{saved.json()['id']}/content", headers=reader)
    assert copy.status_code == 200 and copy.content == photo


async def test_every_route_refuses_callers_who_are_not_in_the_conversation(
    client: httpx.AsyncClient, base_url: str
) -> None:
    org = await make_org(modules=("chat", "drive"))  # the drive too: saving a file is refused for want of access
    alice_user, alice = await make_member(org)
    room = await channel(alice, private=True)
    picture = await upload(alice, room, "photo.jpg", jpeg(64, 48), "image/jpeg")
    message = await say(alice, room, files=[picture.id])
    routes = [
        ("POST", f"/channels/{room}/files?name=intrus.txt", FILE),
        ("GET", f"/files/{picture.id}", None),
        ("GET", f"/files/{picture.id}/preview", None),
        ("POST", f"/files/{picture.id}/drive", None),
        ("GET", f"/channels/{room}", None),
        ("PATCH", f"/channels/{room}", {"topic": "x"}),
        ("POST", f"/channels/{room}/join", None),
        ("POST", f"/channels/{room}/leave", None),
        ("GET", f"/channels/{room}/members", None),
        ("POST", f"/channels/{room}/members", {"users": [str(alice.user_id)]}),
        ("DELETE", f"/channels/{room}/members/{alice.user_id}", None),
        ("POST", f"/channels/{room}/read", {"seq": 1}),
        ("PUT", f"/channels/{room}/muted", {"muted": True}),
        ("GET", f"/channels/{room}/messages", None),
        ("POST", f"/channels/{room}/messages", {"text": "intrus"}),
        ("GET", f"/channels/{room}/pins", None),
        ("GET", f"/channels/{room}/export", None),
        ("GET", f"/messages/{message.id}", None),
        ("GET", f"/messages/{message.id}/thread", None),
        ("PATCH", f"/messages/{message.id}", {"text": "x"}),
        ("DELETE", f"/messages/{message.id}", None),
        ("PUT", f"/messages/{message.id}/reactions/x", None),
        ("PUT", f"/messages/{message.id}/pin", None),
    ]
    for method, path, body in routes:  # anonymous: unsafe methods meet the CSRF check first
        expected = (401,) if method == "GET" else (401, 403)
        assert (await client.request(method, API + path, **_body(body))).status_code in expected, path
    others = [await make_user(org, role=role) for role in ("user", "admin", "guest")] + [
        await make_user(await make_chat_org())
    ]
    for other in others:
        headers = await headers_of(base_url, other)
        for method, path, body in routes:
            answer = await client.request(method, API + path, headers=headers, **_body(body))
            assert answer.status_code == 404, (other.role, method, path, answer.text)
    mfa_user = await make_user(org, mfa=True)
    async with httpx.AsyncClient(base_url=base_url, follow_redirects=False, timeout=30) as browser:
        await login(browser, mfa_user, second_factor=False)
        assert (await browser.get(f"{API}/channels")).status_code == 401
    own = await session_headers(base_url, alice_user)
    assert (await client.get(f"{API}/channels/{room}/messages", headers=own)).status_code == 200
    without_csrf = {"Cookie": own["Cookie"]}
    assert (
        await client.post(f"{API}/channels/{room}/messages", json={"text": "x"}, headers=without_csrf)
    ).status_code == 403


async def test_the_settings_are_the_administrators(client: httpx.AsyncClient, base_url: str) -> None:
    org = await make_chat_org()
    admin = await headers_of(base_url, await make_user(org, role="admin"))
    user = await headers_of(base_url, await make_user(org))
    assert (await client.get(f"{API}/settings", headers=user)).status_code == 403
    assert (
        await client.put(f"{API}/settings", json={"retention_days": 30, "keep_history": True}, headers=user)
    ).status_code == 403
    changed = await client.put(f"{API}/settings", json={"retention_days": 30, "keep_history": True}, headers=admin)
    assert changed.json() == {"retention_days": 30, "keep_history": True}
    assert (
        await client.put(f"{API}/settings", json={"retention_days": 0, "keep_history": True}, headers=admin)
    ).status_code == 422
    assert (await client.get(f"{API}/settings", headers=admin)).json()["retention_days"] == 30
    stranger = await headers_of(base_url, await make_user(await make_chat_org(), role="admin"))
    assert (await client.get(f"{API}/settings", headers=stranger)).json()["retention_days"] is None
