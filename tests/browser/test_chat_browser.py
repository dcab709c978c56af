"""The chat in Debian's chromium: axe-core (WCAG 2.1 A and AA) and the shell's rules on
every chat page in French (light) and English (dark), found by a crawl from ``/chat/``
and ``/chat/admin``; two people chatting live (one writes, the other reads it without
reloading, is told it is being typed and sees the unread count of another
conversation grow); hostile text shown as text and never run; a dropped connection
resumed with what was missed; and the keyboard alone writing, opening a thread,
replying and reacting."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import httpx
import pytest
from playwright.async_api import Page, expect

from hexagone.chat import service
from hexagone.core.auth import Principal
from hexagone.core.db import org_session
from tests.browser.crawl import crawl
from tests.browser.harness import PHONE, OpenTab, goto, press_until, report, settle, shell_problems
from tests.chat.factories import channel, direct, history, join, make_chat_org, say, space_channel
from tests.drive.extraction.documents import jpeg
from tests.factories import TestUser, make_space, make_user, principal
from tests.mail.api.helpers import bearer, token_for

pytestmark = pytest.mark.browser

WAIT = 15_000


async def _live(page: Page) -> None:
    """Waits until the page's socket has said hello (the status selector shows then, and
    the watch of presence answered)."""
    await page.wait_for_function("() => !document.querySelector('#chat-state').closest('[hidden]')")
    await page.wait_for_function(
        "() => [...document.querySelectorAll('.chat-presence[data-user]')].some(d => d.dataset.state)"
    )


@dataclass
class Pair:
    """Two colleagues in one channel, the first its maker."""

    first_user: TestUser
    second_user: TestUser
    first: Principal
    second: Principal
    channel_id: uuid.UUID


async def _pair(name: str | None = None) -> Pair:
    org = await make_chat_org()
    first_user, second_user = await make_user(org), await make_user(org)
    first, second = await principal(first_user), await principal(second_user)
    made = await channel(first, name)
    await join(second, made)
    return Pair(first_user, second_user, first, second, made)


@pytest.mark.parametrize(("lang", "color_scheme"), [("fr", "light"), ("en", "dark")], ids=["fr-light", "en-dark"])
async def test_every_chat_page_passes_axe_and_the_shell_rules(open_tab: OpenTab, lang: str, color_scheme: str) -> None:
    org = await make_chat_org()
    admin = await make_user(org, role="admin")
    colleague = await make_user(org)
    space = await make_space(admin, members={colleague: "member"})
    me = await principal(admin)
    other = await principal(colleague)
    talk = await channel(me, "projets")
    await join(other, talk)
    root = await say(other, talk, "Une **question** pour @" + admin.email)
    await say(me, talk, "Une réponse", thread_id=root.id)
    async with org_session(org.id, write=True) as db:
        await service.react(db, me, root.id, "👍")
        await service.pin(db, me, root.id)
        await service.update(db, me, talk, topic="Le quotidien de l'équipe")
        await db.commit()
    await say(me, await space_channel(me, space.id), "Bonjour l'espace")
    await say(other, await direct(other, me), "Un mot en privé")
    await channel(other, "à rejoindre")
    tab = await open_tab(lang=lang, color_scheme=color_scheme, user=admin)

    async def check(page: Page) -> list[str]:
        return await shell_problems(page, lang)

    result = await crawl(
        tab.page, tab.watch, check, start=["/chat/", f"/chat/{talk}?thread={root.id}", "/chat/admin"], limit=120
    )
    chat_pages = {p for p in result.visited if p.startswith("/chat/")}
    assert {"/chat/", "/chat/browse", "/chat/new", "/chat/direct", f"/chat/{talk}/members", "/chat/admin"} <= chat_pages
    assert any(p.startswith("/chat/messages/") for p in chat_pages), sorted(chat_pages)
    problems = {p: found for p, found in result.problems.items() if found}
    # the pages of a refusal
    for label, path, box, typed in (
        ("new channel refused", "/chat/new", "#chat-name", "projets"),
        ("chat rules refused", "/chat/admin", "#retention_days", "zéro"),
    ):
        await goto(tab.page, path)
        await tab.page.fill(box, typed)
        async with tab.page.expect_navigation():
            await tab.page.locator("main form.form [type=submit]").click()
        await settle(tab.page)
        problems[label] = await shell_problems(tab.page, lang) + tab.watch.drain(document=tab.page.url)
    failing = {label: found for label, found in problems.items() if found}
    assert not failing, report(failing)


async def test_two_people_chat_live_without_reloading(open_tab: OpenTab, base_url: str) -> None:
    pair = await _pair("direct-live")
    alice_user, bob_user, alice, bob, talk = (
        pair.first_user,
        pair.second_user,
        pair.first,
        pair.second,
        pair.channel_id,
    )
    elsewhere = await channel(alice, "ailleurs")
    await join(bob, elsewhere)
    alice_tab = await open_tab(user=alice_user)
    bob_tab = await open_tab(user=bob_user)
    await goto(alice_tab.page, f"/chat/{talk}")
    await goto(bob_tab.page, f"/chat/{talk}")
    await _live(alice_tab.page)
    await _live(bob_tab.page)
    bob_page = bob_tab.page
    reloads: list[str] = []
    bob_page.on("framenavigated", lambda frame: reloads.append(frame.url) if frame == bob_page.main_frame else None)

    box = alice_tab.page.locator("#chat-text")
    await box.click()
    await box.type("Bonjour Bob", delay=20)
    await expect(bob_page.locator("#chat-typing")).to_have_text(f"{alice.display_name} écrit…", timeout=WAIT)
    await box.press("Shift+Enter")
    await box.type("deuxième ligne")
    await box.press("Enter")
    await expect(alice_tab.page.locator("#chat-text")).to_have_value("")
    arrived = bob_page.locator("#chat-messages .chat-message").last
    await expect(arrived.locator(".chat-body")).to_contain_text("Bonjour Bob", timeout=WAIT)
    await expect(arrived.locator(".chat-body")).to_contain_text("deuxième ligne")
    await expect(arrived.locator(".chat-author")).to_have_text(alice.display_name)
    await expect(bob_page.locator("#chat-announce")).to_have_text(
        f"Nouveau message de {alice.display_name} dans #direct-live", timeout=WAIT
    )
    await expect(bob_page.locator("#chat-typing")).to_have_text("")
    [posted] = await history(alice, talk)
    assert posted.text == "Bonjour Bob\ndeuxième ligne"
    await expect(alice_tab.page.locator(f"#m-{posted.id}")).to_have_count(1)

    # a message elsewhere: Bob's unread count grows; three at once are announced as one line
    # (written through the server, whose bus carries it to Bob's socket)
    api = httpx.AsyncClient(base_url=base_url, headers=bearer(await token_for(base_url, alice_user)), timeout=30)
    for n in range(3):
        sent = await api.post(f"/api/v1/chat/channels/{elsewhere}/messages", json={"text": f"ailleurs {n}"})
        assert sent.status_code == 201, sent.text
    badge = bob_page.locator(f'[data-chat-link="{elsewhere}"] [data-chat-unread]')
    await expect(badge.locator("[data-count]")).to_have_text("3", timeout=WAIT)
    await expect(badge).to_be_visible()
    await expect(bob_page.locator("#chat-announce")).to_have_text("3 nouveaux messages dans #ailleurs", timeout=WAIT)

    # a reaction and an edit from Alice's side show on Bob's
    assert (await api.put(f"/api/v1/chat/messages/{posted.id}/reactions/🎉")).status_code == 200
    edited = await api.patch(f"/api/v1/chat/messages/{posted.id}", json={"text": "Bonjour Bob, *modifié*"})
    assert edited.status_code == 200
    await api.aclose()
    bob_message = bob_page.locator(f"#m-{posted.id}")
    await expect(bob_message.locator(".chat-reaction")).to_have_text("🎉 1", timeout=WAIT)
    await expect(bob_message.locator(".chat-body em")).to_have_text("modifié", timeout=WAIT)
    await expect(bob_message.locator(".chat-edited")).to_be_visible()
    # Bob's read marker moved as the message arrived on his open page
    async with org_session(bob.org_id) as db:
        [bob_view] = [c for c in await service.listing(db, bob) if c.id == talk]
    assert bob_view.unread == 0
    assert reloads == []
    assert not alice_tab.watch.drain() and not bob_tab.watch.drain()


async def test_hostile_text_is_shown_as_text_and_runs_nothing(open_tab: OpenTab) -> None:
    pair = await _pair()
    writer_user, reader_user, writer, talk = pair.first_user, pair.second_user, pair.first, pair.channel_id
    hostile = '<img src=x onerror="window.pwned=1"> <script>window.pwned=2</script> [lien](javascript:window.pwned=3)'
    await say(writer, talk, hostile)
    reader_tab = await open_tab(user=reader_user)
    await goto(reader_tab.page, f"/chat/{talk}")
    await _live(reader_tab.page)
    writer_tab = await open_tab(user=writer_user)
    await goto(writer_tab.page, f"/chat/{talk}")
    await _live(writer_tab.page)
    await writer_tab.page.fill("#chat-text", hostile + " en direct")
    await writer_tab.page.press("#chat-text", "Enter")
    bodies = reader_tab.page.locator("#chat-messages .chat-body")
    await expect(bodies).to_have_count(2, timeout=WAIT)
    for page in (reader_tab.page, writer_tab.page):
        for body in await page.locator("#chat-messages .chat-body").all():
            await expect(body).to_contain_text('<img src=x onerror="window.pwned=1">')
            await expect(body).to_contain_text("<script>window.pwned=2</script>")
            assert await body.locator("img, script, [onerror]").count() == 0
            assert await body.locator('a[href^="javascript"]').count() == 0
        assert await page.evaluate("() => window.pwned") is None
    assert not reader_tab.watch.drain() and not writer_tab.watch.drain()


async def test_a_picture_sent_from_the_composer_reaches_the_other_live_with_its_preview(open_tab: OpenTab) -> None:
    pair = await _pair()
    reader_tab = await open_tab(user=pair.second_user)
    await goto(reader_tab.page, f"/chat/{pair.channel_id}")
    await _live(reader_tab.page)
    writer_tab = await open_tab(user=pair.first_user)
    writer = writer_tab.page
    await goto(writer, f"/chat/{pair.channel_id}")
    await _live(writer)
    hostile = "<img src=x onerror=window.pwned=1>.jpg"  # (a browser would send a quote as %22)
    await writer.set_input_files(
        "#chat-text-files", files=[{"name": hostile, "mimeType": "image/jpeg", "buffer": jpeg(900, 600)}]
    )
    await writer.fill("#chat-text", "La photo")
    await writer.press("#chat-text", "Enter")
    for page in (reader_tab.page, writer):
        arrived = page.locator("#chat-messages .chat-message").last
        await expect(arrived.locator(".chat-body")).to_contain_text("La photo", timeout=WAIT)
        shown = arrived.locator(".chat-file")
        await expect(shown.locator(".chat-file-name")).to_have_text(hostile)
        picture = shown.locator("img")
        await expect(picture).to_have_count(1)
        await page.wait_for_function(
            "(img) => img.complete && img.naturalWidth === 512", arg=await picture.element_handle()
        )
        assert await page.evaluate("() => window.pwned") is None
    await expect(writer.locator("#chat-text-files")).to_have_value("")
    [sent] = await history(pair.first, pair.channel_id)
    assert [a.name for a in sent.attachments] == [hostile] and sent.attachments[0].preview
    assert not reader_tab.watch.drain() and not writer_tab.watch.drain()


# Keeps every WebSocket the page opens in window.__sockets (injected before the page's own
# scripts, outside its Content-Security-Policy), so that a test can drop one.
RECORD_SOCKETS = """(() => {
  const Native = window.WebSocket;
  window.__sockets = [];
  window.WebSocket = class extends Native {
    constructor(...args) { super(...args); window.__sockets.push(this); }
  };
})()"""


async def test_a_dropped_connection_comes_back_and_shows_what_was_missed_once_in_order(
    open_tab: OpenTab, base_url: str
) -> None:
    pair = await _pair()
    tab = await open_tab(user=pair.second_user)
    await tab.context.add_init_script(RECORD_SOCKETS)
    page = tab.page
    await goto(page, f"/chat/{pair.channel_id}")
    await _live(page)
    api = httpx.AsyncClient(base_url=base_url, headers=bearer(await token_for(base_url, pair.first_user)), timeout=30)

    async def post(text: str) -> tuple[str, int]:  # through the server, whose bus reaches the page's socket
        answer = await api.post(f"/api/v1/chat/channels/{pair.channel_id}/messages", json={"text": text})
        assert answer.status_code == 201, answer.text
        return answer.json()["id"], answer.json()["seq"]

    before = await post("avant la coupure")
    await expect(page.locator(f"#m-{before[0]}")).to_have_count(1, timeout=WAIT)
    await page.evaluate("() => window.__sockets.at(-1).close()")
    await expect(page.locator("#chat-connection")).to_be_visible()  # "reconnecting"
    missed = [await post(f"pendant la coupure {n}") for n in range(3)]
    await api.aclose()
    await page.wait_for_function("() => window.__sockets.length === 2 && window.__sockets[1].readyState === 1")
    resumed_from = await page.evaluate("() => new URL(window.__sockets[1].url).searchParams.get('after')")
    assert resumed_from is not None and before[1] <= int(resumed_from) < missed[0][1]
    for message_id, _seq in missed:
        await expect(page.locator(f"#m-{message_id}")).to_have_count(1, timeout=WAIT)
    shown = await page.locator("#chat-messages .chat-message").evaluate_all("items => items.map(i => i.id)")
    assert shown[-4:] == [f"m-{message_id}" for message_id, _seq in (before, *missed)]
    await expect(page.locator("#chat-connection")).to_be_hidden()
    assert not tab.watch.drain()


async def test_keyboard_alone_writes_opens_a_thread_replies_reacts_and_edits(open_tab: OpenTab) -> None:
    org = await make_chat_org()
    user = await make_user(org)
    me = await principal(user)
    talk = await channel(me, "clavier")
    tab = await open_tab(user=user)
    page = tab.page
    unseen: list[str] = []
    await goto(page, f"/chat/{talk}")
    await _live(page)
    await press_until(page, "#chat-text", unseen)
    await page.keyboard.type("Écrit au clavier")
    await page.keyboard.press("Enter")
    message = page.locator("#chat-messages .chat-message").last
    await expect(message.locator(".chat-body")).to_have_text("Écrit au clavier", timeout=WAIT)
    [written] = await history(me, talk)
    # the message's menu, then "reply in the thread"
    await page.keyboard.press("Shift+Tab")
    await press_until(page, f"#m-{written.id} .chat-actions summary", unseen)
    await page.keyboard.press("Enter")
    await press_until(page, f'#m-{written.id} a[data-control="reply"]', unseen)
    await page.keyboard.press("Enter")
    await expect(page.locator("#chat-thread-title")).to_be_focused(timeout=WAIT)
    assert page.url.endswith(f"?thread={written.id}")
    await press_until(page, "#chat-thread-text", unseen)
    await page.keyboard.type("Une réponse au clavier")
    await page.keyboard.press("Enter")
    await expect(page.locator("#chat-thread-messages .chat-message")).to_have_count(2, timeout=WAIT)
    await expect(page.locator(f"#chat-messages #m-{written.id} .chat-replies")).to_have_text("1 réponse")
    # a reaction from the message's menu
    await page.locator("#chat-text").focus()
    await page.keyboard.press("Shift+Tab")
    await press_until(page, f"#chat-messages #m-{written.id} .chat-actions summary", unseen)
    await page.keyboard.press("Enter")
    await press_until(page, f"#chat-messages #m-{written.id} .chat-quick-reaction", unseen)
    await page.keyboard.press("Enter")
    reaction = page.locator(f"#chat-messages #m-{written.id} .chat-reaction")
    await expect(reaction).to_have_attribute("aria-pressed", "true", timeout=WAIT)
    await expect(page.locator(f"#chat-messages #m-{written.id} .chat-actions summary")).to_be_focused()
    [reacted] = await history(me, talk)
    assert reacted.reactions == {"👍": [str(me.user_id)]} and reacted.reply_count == 1
    # Up in the empty composer edits one's last message in place; Enter saves
    await page.locator("#chat-text").focus()
    await page.keyboard.press("ArrowUp")
    editing = page.locator(f"#chat-edit-{written.id}")
    await expect(editing).to_be_focused(timeout=WAIT)
    await expect(editing).to_have_value("Écrit au clavier")
    await page.keyboard.type(", puis corrigé")
    await page.keyboard.press("Enter")
    await expect(page.locator(f"#chat-messages #m-{written.id} .chat-body")).to_have_text(
        "Écrit au clavier, puis corrigé", timeout=WAIT
    )
    await expect(page.locator(f"#chat-messages #m-{written.id} .chat-edited")).to_be_visible()
    await expect(page.locator(f"#chat-messages #m-{written.id} .chat-time")).to_be_focused()
    [edited] = await history(me, talk)
    assert edited.text == "Écrit au clavier, puis corrigé"
    assert not unseen, "\n".join(unseen)
    assert not tab.watch.drain()


async def test_older_messages_come_on_scrolling_up_mentions_complete_and_presence_shows(open_tab: OpenTab) -> None:
    pair = await _pair("historique")
    alice_user, bob_user, alice, talk = pair.first_user, pair.second_user, pair.first, pair.channel_id
    for n in range(70):
        await say(alice, talk, f"ancien {n}")
    bob_tab = await open_tab(user=bob_user)
    page = bob_tab.page
    await goto(page, f"/chat/{talk}")
    await _live(page)
    messages = page.locator("#chat-messages .chat-message")
    await expect(messages).to_have_count(50)
    await page.evaluate("() => { document.getElementById('chat-messages').scrollTop = 0; }")
    await expect(messages).to_have_count(70, timeout=WAIT)
    await expect(messages.first.locator(".chat-body")).to_have_text("ancien 0")
    await expect(page.locator("#chat-older")).to_have_count(0)

    # @ and the start of a name offers the people; Enter writes the address, Enter again sends
    box = page.locator("#chat-text")
    await box.click()
    await box.type(f"Vu par @{alice_user.email.split('@')[0]}", delay=20)
    option = page.locator("#chat-text-people [role=option]").first
    await expect(option).to_have_text(f"{alice.display_name} ({alice_user.email})", timeout=WAIT)
    await expect(box).to_have_attribute("aria-activedescendant", "chat-text-people-0")
    await box.press("Enter")
    await expect(box).to_have_value(f"Vu par @{alice_user.email} ")
    await box.press("Enter")
    mention = messages.last.locator(".chat-body .mention")
    await expect(mention).to_have_text(f"@{alice.display_name}", timeout=WAIT)
    assert await mention.get_attribute("data-user") == str(alice.user_id)

    # Alice comes online, then asks not to be disturbed: Bob's page shows it
    dot = page.locator(f'.chat-people .chat-presence[data-user="{alice.user_id}"]')
    await expect(dot).to_have_attribute("data-state", "offline")
    alice_tab = await open_tab(user=alice_user)
    await goto(alice_tab.page, f"/chat/{talk}")
    await _live(alice_tab.page)
    await expect(dot).to_have_attribute("data-state", "online", timeout=WAIT)
    await alice_tab.page.select_option("#chat-state", "dnd")
    await expect(dot).to_have_attribute("data-state", "dnd", timeout=WAIT)
    await expect(dot.locator(".visually-hidden")).to_have_text("(ne pas déranger)")
    assert not bob_tab.watch.drain() and not alice_tab.watch.drain()


async def test_a_conversation_with_its_thread_fits_a_phone_without_sideways_scroll(open_tab: OpenTab) -> None:
    pair = await _pair("téléphone")
    root = await say(pair.second, pair.channel_id, "https://example.org/" + "un-chemin-tres-long/" * 10)
    await say(pair.first, pair.channel_id, "`" + "x" * 200 + "`", thread_id=root.id)
    page = (await open_tab(viewport=PHONE, user=pair.first_user)).page
    await goto(page, f"/chat/{pair.channel_id}?thread={root.id}")
    await _live(page)
    widths = await page.evaluate("() => ({scroll: document.documentElement.scrollWidth, viewport: window.innerWidth})")
    assert widths["scroll"] <= widths["viewport"], widths
    await page.locator(f"#chat-messages #m-{root.id} .chat-actions summary").click()
    widths = await page.evaluate("() => ({scroll: document.documentElement.scrollWidth, viewport: window.innerWidth})")
    assert widths["scroll"] <= widths["viewport"], f"with a message's menu open: {widths}"


async def test_direct_message_form_completes_addresses_and_opens_the_conversation(open_tab: OpenTab) -> None:
    pair = await _pair()
    page = (await open_tab(user=pair.first_user)).page
    await goto(page, "/chat/direct")
    field = page.locator("#chat-addresses")
    await field.click()
    await field.type(pair.second_user.email.split("@")[0], delay=20)
    option = page.locator("#chat-addresses-people [role=option]").first
    await expect(option).to_have_text(f"{pair.second.display_name} ({pair.second_user.email})", timeout=WAIT)
    await field.press("Enter")
    await expect(field).to_have_value(f"{pair.second_user.email}, ")
    async with page.expect_navigation():
        await field.press("Enter")
    await settle(page)
    await expect(page.locator("h1")).to_have_text(pair.second.display_name)
    assert await page.locator("#chat-text").count() == 1
