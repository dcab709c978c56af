"""The chat's pages over a real server, without JavaScript: the list of conversations
with unread counts, a conversation with its latest messages and older pages, the
composer's form, threads, reactions, pins, edits and deletions, making channels and
direct conversations, members and settings; and every kind of caller refused what is
not theirs."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest

from hexagone.chat import service
from hexagone.core.db import org_session
from hexagone.drive import service as drive_service
from tests.chat.factories import (
    channel,
    direct,
    history,
    join,
    listing,
    make_chat_org,
    make_member,
    say,
    space_channel,
    upload,
)
from tests.drive.extraction.documents import jpeg
from tests.factories import TestUser, csrf_token, login, make_org, make_space, make_user, principal
from tests.mail.api.helpers import bearer, token_for

pytestmark = pytest.mark.usefixtures("migrated")


@asynccontextmanager
async def _browser(base_url: str, user: TestUser, **options: bool) -> AsyncIterator[httpx.AsyncClient]:
    """Another person's browser, signed in."""
    async with httpx.AsyncClient(base_url=base_url, follow_redirects=False, timeout=30) as browser:
        await login(browser, user, **options)
        yield browser


async def test_chat_home_lists_spaces_channels_and_direct_messages_with_unread_counts(
    client: httpx.AsyncClient,
) -> None:
    org = await make_chat_org()
    user, me = await make_member(org)
    other_user, other = await make_member(org)
    space = await make_space(user, members={other_user: "member"})
    general = await space_channel(await principal(other_user), space.id)
    talk = await channel(other, "projets")
    await join(me, talk)
    pair = await direct(other, me)
    for text in ("un", "deux", "trois"):
        await say(other, talk, text)
    await say(other, pair, "coucou")
    await login(client, user)
    page = await client.get("/chat/")
    assert page.status_code == 200
    sidebar = page.text[page.text.index('id="chat-sidebar"') :]
    assert sidebar.index("Espaces") < sidebar.index(space.name) < sidebar.index("Canaux")
    assert sidebar.index("Canaux") < sidebar.index("projets") < sidebar.index("Messages directs")
    assert sidebar.index("Messages directs") < sidebar.index(other_user.email.split("@")[0])
    counted = re.search(rf'href="/chat/{talk}".*?<span data-count>(\d+)</span>', page.text, re.S)
    assert counted is not None and counted.group(1) == "3"
    assert f'href="/chat/{general}"' in page.text
    assert 'href="/chat/browse"' in page.text and 'href="/chat/new"' in page.text and 'href="/chat/direct"' in page.text


async def test_chat_channel_page_shows_the_latest_messages_and_reads_them(client: httpx.AsyncClient) -> None:
    org = await make_chat_org()
    user, me = await make_member(org)
    _other_user, other = await make_member(org)
    talk = await channel(other, "annonces")
    await join(me, talk)
    posted = [await say(other, talk, f"message numéro {n}") for n in range(60)]
    await login(client, user)
    page = await client.get(f"/chat/{talk}")
    assert page.status_code == 200
    assert "message numéro 59" in page.text and "message numéro 10<" in page.text
    assert "message numéro 9<" not in page.text
    loader = re.search(r'href="/chat/[^"?]+\?before=(\d+)"', page.text)
    assert loader is not None and int(loader.group(1)) == posted[10].seq
    [info] = [c for c in await listing(me) if c.id == talk]
    assert info.unread == 0 and info.last_read_seq == posted[-1].seq
    older = await client.get(f"/chat/{talk}/older?before={posted[10].seq}")
    assert older.status_code == 200 and "<html" not in older.text
    assert "message numéro 0<" in older.text and "message numéro 9<" in older.text
    assert "message numéro 10<" not in older.text and "chat-older" not in older.text
    without_js = await client.get(f"/chat/{talk}?before={posted[10].seq}")
    assert "message numéro 0<" in without_js.text and f'href="/chat/{talk}"' in without_js.text
    assert (await client.get(f"/chat/{talk}?before=abc")).status_code == 400


async def test_chat_composer_posts_without_javascript_and_escapes_what_is_typed(client: httpx.AsyncClient) -> None:
    org = await make_chat_org()
    user, me = await make_member(org)
    talk = await channel(me, "essais")
    await login(client, user)
    token = await csrf_token(client, f"/chat/{talk}")
    hostile = '<img src=x onerror="alert(1)"> <script>alert(2)</script> **gras**'
    sent = await client.post(f"/chat/{talk}/messages", data={"csrf_token": token, "text": hostile})
    assert sent.status_code == 303
    [message] = await history(me, talk)
    assert sent.headers["location"] == f"/chat/{talk}#m-{message.id}"
    page = (await client.get(f"/chat/{talk}")).text
    assert "<strong>gras</strong>" in page
    assert "<img src=x" not in page and "<script>alert(2)" not in page
    assert "&lt;img src=x onerror=" in page and "&lt;script&gt;alert(2)&lt;/script&gt;" in page
    empty = await client.post(f"/chat/{talk}/messages", data={"csrf_token": token, "text": "   "})
    assert empty.status_code == 400 and 'role="alert"' in empty.text
    no_token = await client.post(f"/chat/{talk}/messages", data={"text": "sans jeton"})
    assert no_token.status_code == 403


HOSTILE_NAME = "<img src=x onerror=alert(1)>.txt"


async def test_chat_composer_sends_files_without_javascript_and_shows_pictures_by_their_preview(
    client: httpx.AsyncClient,
) -> None:
    org = await make_chat_org()
    user, me = await make_member(org)
    talk = await channel(me, "photos")
    await login(client, user)
    token = await csrf_token(client, f"/chat/{talk}")
    photo = jpeg(900, 600)
    sent = await client.post(
        f"/chat/{talk}/messages",
        data={"csrf_token": token, "text": ""},
        files=[
            ("files", ("vacances.jpg", photo, "image/jpeg")),
            ("files", (HOSTILE_NAME, b"a\nb", "text/plain")),
        ],
    )
    assert sent.status_code == 303, sent.text
    [message] = await history(me, talk)
    picture, listing_file = message.attachments
    page = (await client.get(f"/chat/{talk}")).text
    assert f'src="/chat/files/{picture.id}/preview"' in page and f'href="/chat/files/{listing_file.id}"' in page
    assert "&lt;img src=x onerror=alert(1)&gt;.txt" in page and HOSTILE_NAME not in page
    downloaded = await client.get(f"/chat/files/{picture.id}")
    assert downloaded.status_code == 200 and downloaded.content == photo
    assert downloaded.headers["content-disposition"].startswith("attachment;")
    shown = await client.get(f"/chat/files/{picture.id}/preview")
    assert shown.status_code == 200 and shown.headers["content-type"] == "image/png"
    too_many = [("files", (f"{n}.txt", b"x", "text/plain")) for n in range(service.MAX_PER_MESSAGE + 1)]
    refused = await client.post(f"/chat/{talk}/messages", data={"csrf_token": token, "text": "trop"}, files=too_many)
    assert refused.status_code == 400 and 'role="alert"' in refused.text
    assert len(await history(me, talk)) == 1


async def test_chat_file_is_saved_to_the_readers_drive_from_the_page(client: httpx.AsyncClient) -> None:
    org = await make_org(modules=("chat", "drive"))
    writer_user, writer = await make_member(org)
    reader_user, reader = await make_member(org)
    talk = await channel(writer, "dossiers")
    await join(reader, talk)
    sent = await upload(writer, talk, "plan.txt", b"le plan")
    message = await say(writer, talk, "le plan", files=[sent.id])
    await login(client, reader_user)
    page = await client.get(f"/chat/{talk}")
    assert f'action="/chat/files/{sent.id}/drive"' in page.text
    token = await csrf_token(client, f"/chat/{talk}")
    back = f"/chat/{talk}#m-{message.id}"
    saved = await client.post(f"/chat/files/{sent.id}/drive", data={"csrf_token": token, "next": back})
    assert saved.status_code == 303
    assert saved.headers["location"] == f"/chat/{talk}?done=chat_saved_to_drive#m-{message.id}"
    async with org_session(org.id) as db:
        root = (await drive_service.drive_of_user(db, reader)).root_id
        names = [e.name for e in (await drive_service.list_folder(db, reader, root)).entries]
    assert names == ["plan.txt"]
    without = await client.post(f"/chat/files/{sent.id}/drive", data={"next": back})
    assert without.status_code == 403  # no CSRF token
    del writer_user


async def test_chat_manager_archives_a_channel_from_its_members_page_and_opens_it_again(
    client: httpx.AsyncClient,
) -> None:
    org = await make_chat_org()
    user, me = await make_member(org)
    talk = await channel(me, "ancien")
    await login(client, user)
    members = await client.get(f"/chat/{talk}/members")
    assert "Archiver le canal" in members.text
    token = await csrf_token(client, f"/chat/{talk}/members")
    done = await client.post(f"/chat/{talk}/archive", data={"csrf_token": token, "archived": "1"})
    assert done.status_code == 303 and done.headers["location"].endswith("done=chat_archived")
    assert (await listing(me))[0].archived
    page = await client.get(f"/chat/{talk}")
    assert 'id="chat-text"' not in page.text  # read-only: no composer
    assert "Désarchiver le canal" in (await client.get(f"/chat/{talk}/members")).text
    await client.post(f"/chat/{talk}/archive", data={"csrf_token": token, "archived": "0"})
    assert not next(c for c in await listing(me) if c.id == talk).archived
    colleague_user, colleague = await make_member(org)  # a member of the channel, not its manager
    await join(colleague, talk)
    async with _browser(str(client.base_url), colleague_user) as browser:
        assert "Archiver le canal" not in (await browser.get(f"/chat/{talk}/members")).text
        refused = await browser.post(
            f"/chat/{talk}/archive", data={"csrf_token": await csrf_token(browser, "/chat/"), "archived": "1"}
        )
        assert refused.status_code == 403
    assert not next(c for c in await listing(me) if c.id == talk).archived


async def test_chat_thread_opens_beside_the_conversation_and_takes_replies(client: httpx.AsyncClient) -> None:
    org = await make_chat_org()
    user, me = await make_member(org)
    talk = await channel(me)
    root = await say(me, talk, "Une question")
    await login(client, user)
    token = await csrf_token(client, f"/chat/{talk}")
    replied = await client.post(
        f"/chat/{talk}/messages?thread={root.id}", data={"csrf_token": token, "text": "Une réponse", "thread": root.id}
    )
    assert replied.status_code == 303 and replied.headers["location"].startswith(f"/chat/{talk}?thread={root.id}#m-")
    page = await client.get(f"/chat/{talk}?thread={root.id}")
    assert page.status_code == 200
    aside = page.text[page.text.index('<aside class="chat-thread"') :]
    assert "Une question" in aside and "Une réponse" in aside and 'name="thread"' in aside
    main = page.text[: page.text.index('<aside class="chat-thread"')]
    assert "1 réponse" in main and "Une réponse" not in main
    other_talk = await channel(me)
    assert (await client.get(f"/chat/{other_talk}?thread={root.id}")).status_code == 404


async def test_chat_message_controls_work_without_javascript(client: httpx.AsyncClient) -> None:
    org = await make_chat_org()
    user, me = await make_member(org)
    talk = await channel(me)
    message = await say(me, talk, "premier jet")
    await login(client, user)
    token = await csrf_token(client, f"/chat/{talk}")
    base = f"/chat/messages/{message.id}"
    assert (await client.post(f"{base}/react", data={"csrf_token": token, "emoji": "👍", "on": "1"})).status_code == 303
    assert (await client.post(f"{base}/pin", data={"csrf_token": token, "pinned": "1"})).status_code == 303
    edit_page = await client.get(base)
    assert edit_page.status_code == 200 and "premier jet" in edit_page.text
    edited = await client.post(base, data={"csrf_token": token, "text": "version finale"})
    assert edited.status_code == 303
    refused = await client.post(base, data={"csrf_token": token, "text": ""})
    assert refused.status_code == 400
    [now] = await history(me, talk)
    assert now.text == "version finale" and now.pinned and now.reactions == {"👍": [str(me.user_id)]}
    page = (await client.get(f"/chat/{talk}")).text
    assert 'aria-pressed="true"' in page and "(modifié)" in page and "Épinglés (1)" in page
    assert (await client.post(f"{base}/react", data={"csrf_token": token, "emoji": "👍", "on": "0"})).status_code == 303
    deleted = await client.post(f"{base}/delete", data={"csrf_token": token})
    assert deleted.status_code == 303 and deleted.headers["location"].endswith("done=chat_deleted")
    [gone] = await history(me, talk)
    assert gone.deleted and gone.reactions == {}
    assert "Ce message a été supprimé." in (await client.get(f"/chat/{talk}")).text


async def test_chat_someone_else_cannot_edit_or_delete_a_message(base_url: str) -> None:
    org = await make_chat_org()
    _author_user, author = await make_member(org)
    reader_user, reader = await make_member(org)
    talk = await channel(author)
    await join(reader, talk)
    message = await say(author, talk, "à moi")
    async with _browser(base_url, reader_user) as browser:
        page = (await browser.get(f"/chat/{talk}")).text
        assert f'href="/chat/messages/{message.id}" data-control="edit"' not in page
        token = await csrf_token(browser, f"/chat/{talk}")
        edited = await browser.post(f"/chat/messages/{message.id}", data={"csrf_token": token, "text": "à toi"})
        assert edited.status_code == 403
        deleted = await browser.post(f"/chat/messages/{message.id}/delete", data={"csrf_token": token})
        assert deleted.status_code == 403
    [kept] = await history(author, talk)
    assert kept.text == "à moi" and not kept.deleted


async def test_chat_new_channel_form_makes_it_and_refuses_a_taken_name(client: httpx.AsyncClient) -> None:
    user, me = await make_member()
    await login(client, user)
    token = await csrf_token(client, "/chat/new")
    made = await client.post(
        "/chat/new", data={"csrf_token": token, "name": "équipe", "topic": "Le quotidien", "private": "1"}
    )
    assert made.status_code == 303 and made.headers["location"].endswith("done=chat_channel_made")
    [info] = [c for c in await listing(me) if c.title == "équipe"]
    assert info.kind == "private" and info.topic == "Le quotidien"
    page = await client.get(made.headers["location"])
    assert "Le canal est créé." in page.text and "Le quotidien" in page.text
    taken = await client.post("/chat/new", data={"csrf_token": token, "name": "Équipe", "topic": "Autre"})
    assert taken.status_code == 409 and 'value="Équipe"' in taken.text and 'value="Autre"' in taken.text
    empty = await client.post("/chat/new", data={"csrf_token": token, "name": " "})
    assert empty.status_code == 400


async def test_chat_direct_form_opens_one_conversation_per_set_of_people(client: httpx.AsyncClient) -> None:
    org = await make_chat_org()
    user, _me = await make_member(org)
    friend_user, friend = await make_member(org)
    await login(client, user)
    found = await client.get(f"/chat/direct?q={friend_user.email.split('@')[0]}")
    assert found.status_code == 200 and f'value="{friend.user_id}"' in found.text
    token = await csrf_token(client, "/chat/direct")
    by_box = await client.post("/chat/direct", data={"csrf_token": token, "people": str(friend.user_id)})
    by_address = await client.post("/chat/direct", data={"csrf_token": token, "addresses": friend_user.email.upper()})
    assert by_box.status_code == by_address.status_code == 303
    assert by_box.headers["location"] == by_address.headers["location"]
    unknown = await client.post("/chat/direct", data={"csrf_token": token, "addresses": "nobody@nowhere.test"})
    assert unknown.status_code == 400 and "nobody@nowhere.test" in unknown.text
    nobody = await client.post("/chat/direct", data={"csrf_token": token})
    assert nobody.status_code == 400
    people = await client.get(f"/chat/people?q={friend_user.email.split('@')[0]}")
    assert people.json() == [{"id": str(friend.user_id), "name": friend.display_name, "handle": friend_user.email}]
    assert (await client.get("/chat/people?q=")).json() == []


async def test_chat_browse_join_members_settings_mute_and_leave(client: httpx.AsyncClient) -> None:
    org = await make_chat_org()
    user, me = await make_member(org)
    manager_user, manager = await make_member(org)
    colleague_user, colleague = await make_member(org)
    talk = await channel(manager, "ouvert")
    await login(client, user)
    browse = await client.get("/chat/browse")
    assert browse.status_code == 200 and "ouvert" in browse.text
    token = await csrf_token(client, "/chat/browse")
    joined = await client.post(f"/chat/{talk}/join", data={"csrf_token": token})
    assert joined.status_code == 303 and joined.headers["location"] == f"/chat/{talk}?done=chat_joined"
    muted = await client.post(f"/chat/{talk}/mute", data={"csrf_token": token, "muted": "1", "next": f"/chat/{talk}"})
    assert muted.status_code == 303
    assert [c.muted for c in await listing(me) if c.id == talk] == [True]
    members = await client.get(f"/chat/{talk}/members")
    assert members.status_code == 200 and manager_user.email in members.text and "Ajouter" not in members.text
    not_manager = await client.post(f"/chat/{talk}/settings", data={"csrf_token": token, "topic": "x"})
    assert not_manager.status_code == 403
    left = await client.post(f"/chat/{talk}/leave", data={"csrf_token": token})
    assert left.status_code == 303 and talk not in [c.id for c in await listing(me)]
    async with _browser(str(client.base_url), manager_user) as browser:
        token = await csrf_token(browser, f"/chat/{talk}/members")
        added = await browser.post(
            f"/chat/{talk}/members", data={"csrf_token": token, "addresses": f"{colleague_user.email}, {user.email}"}
        )
        assert added.status_code == 303
        changed = await browser.post(
            f"/chat/{talk}/settings", data={"csrf_token": token, "name": "ouvert", "topic": "Neuf"}
        )
        assert changed.status_code == 303
        removed = await browser.post(
            f"/chat/{talk}/members/remove", data={"csrf_token": token, "user_id": str(me.user_id)}
        )
        assert removed.status_code == 303
        bad = await browser.post(f"/chat/{talk}/members", data={"csrf_token": token, "addresses": "nobody@x.test"})
        assert bad.status_code == 400 and 'value="nobody@x.test"' in bad.text
    async with org_session(org.id) as db:
        assert set(await service.members(db, manager, talk)) == {manager.user_id, colleague.user_id}
        assert (await service.info(db, manager, talk)).topic == "Neuf"


async def test_chat_pages_refuse_every_caller_who_is_not_theirs(client: httpx.AsyncClient, base_url: str) -> None:
    org = await make_chat_org()
    owner_user, owner = await make_member(org)
    friend_user, friend = await make_member(org)
    secret = await channel(owner, private=True)
    pair = await direct(owner, friend)
    picture = await upload(owner, secret, "photo.jpg", jpeg(64, 48), "image/jpeg")
    message = await say(owner, secret, "secret", files=[picture.id])
    paths = [
        f"/chat/files/{picture.id}",
        f"/chat/files/{picture.id}/preview",
        f"/chat/{secret}",
        f"/chat/{pair}",
        f"/chat/{secret}/members",
        f"/chat/{secret}/older?before={message.seq + 1}",
        f"/chat/{secret}?message={message.id}",
        f"/chat/messages/{message.id}",
    ]
    # anonymous: the module's pages are not there
    for path in ["/chat/", "/chat/browse", "/chat/new", "/chat/direct", "/chat/people?q=a", *paths]:
        assert (await client.get(path)).status_code == 404, path
    # a colleague, an administrator, a guest of the organisation; someone of another one
    for role, other_org in (("user", org), ("admin", org), ("guest", org), ("user", None)):
        other = await make_user(other_org or await make_chat_org(), role=role)
        async with _browser(base_url, other) as browser:
            assert (await browser.get("/chat/")).status_code == 200, role
            for path in paths:
                assert (await browser.get(path)).status_code == 404, (role, path)
            token = await csrf_token(browser, "/chat/")
            posted = await browser.post(f"/chat/{secret}/messages", data={"csrf_token": token, "text": "intrus"})
            assert posted.status_code == 404, role
            react = await browser.post(f"/chat/messages/{message.id}/react", data={"csrf_token": token, "emoji": "👍"})
            assert react.status_code == 404, role
    # a guest reaches their space's conversation but cannot make channels
    guest = await make_user(org, role="guest")
    space = await make_space(owner_user, members={guest: "member"})
    general = await space_channel(await principal(owner_user), space.id)
    async with _browser(base_url, guest) as browser:
        assert (await browser.get(f"/chat/{general}")).status_code == 200
        assert 'href="/chat/new"' not in (await browser.get("/chat/")).text
        token = await csrf_token(browser, "/chat/")
        assert (await browser.post("/chat/new", data={"csrf_token": token, "name": "invité"})).status_code == 403
    # the people of the conversation do reach it
    async with _browser(base_url, friend_user) as browser:
        assert (await browser.get(f"/chat/{pair}")).status_code == 200
    # an organisation that does not subscribe to the chat
    unsubscribed = await make_user(await make_org(modules=("calendar",)))
    async with _browser(base_url, unsubscribed) as browser:
        assert (await browser.get("/chat/")).status_code == 404
    # an access token opens the API only, never a page
    token = await token_for(base_url, owner_user)
    assert (await client.get(paths[0], headers=bearer(token))).status_code == 401
    # a session that still owes its second factor
    mfa_user = await make_user(org, mfa=True)
    async with _browser(base_url, mfa_user, second_factor=False) as browser:
        pending = await browser.get("/chat/")
        assert pending.status_code == 303 and pending.headers["location"].startswith("/login/mfa")


async def test_chat_notification_link_opens_the_page_or_the_thread_of_its_message(client: httpx.AsyncClient) -> None:
    org = await make_chat_org()
    user, me = await make_member(org)
    talk = await channel(me)
    first = await say(me, talk, "le tout premier")
    root = await say(me, talk, "la question")
    reply = await say(me, talk, "la réponse", thread_id=root.id)
    for n in range(60):
        await say(me, talk, f"bavardage {n}")
    await login(client, user)
    old = await client.get(f"/chat/{talk}?message={first.id}")
    assert old.status_code == 200 and "le tout premier" in old.text and "bavardage 59" not in old.text
    threaded = await client.get(f"/chat/{talk}?message={reply.id}")
    assert (
        threaded.status_code == 200 and '<aside class="chat-thread"' in threaded.text and "la réponse" in threaded.text
    )
    elsewhere = await channel(me)
    assert (await client.get(f"/chat/{elsewhere}?message={first.id}")).status_code == 404
