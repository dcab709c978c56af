"""Posting, reading, threads, edits, deletions, reactions, pins, read markers and unread
counts, mentions and the notifications they bring, through the service."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from hexagone.chat import service
from hexagone.chat.models import Event, Revision
from hexagone.core import notifications
from hexagone.core.db import org_session, system_session
from hexagone.core.exceptions import Forbidden, Invalid, NotFound
from tests.chat.factories import channel, direct, history, join, listing, make_chat_org, make_member, say

pytestmark = pytest.mark.usefixtures("migrated")


async def test_a_message_posted_is_in_the_history_rendered_and_numbered_in_order() -> None:
    _u, alice = await make_member()
    room = await channel(alice)
    first = await say(alice, room, "**Bonjour** à tous <script>alert(1)</script>")
    second = await say(alice, room, "Deuxième")
    found = await history(alice, room)
    assert [m.id for m in found] == [first.id, second.id]
    assert first.seq < second.seq
    assert "<strong>Bonjour</strong>" in first.html
    assert "<script>" not in first.html and "&lt;script&gt;" in first.html
    assert found[0].author_name == alice.display_name


async def test_history_pages_go_back_by_number_and_forward_after_one() -> None:
    _u, alice = await make_member()
    room = await channel(alice)
    posted = [await say(alice, room, f"message {n}") for n in range(7)]
    latest = await history(alice, room, limit=3)
    assert [m.text for m in latest] == ["message 4", "message 5", "message 6"]
    older = await history(alice, room, before=latest[0].seq, limit=3)
    assert [m.text for m in older] == ["message 1", "message 2", "message 3"]
    newer = await history(alice, room, after=posted[2].seq, limit=2)
    assert [m.text for m in newer] == ["message 3", "message 4"]
    with pytest.raises(Invalid):
        await history(alice, room, limit=0)


@pytest.mark.parametrize("text", ["", "   ", "\x00\x01", "x" * (service.MAX_TEXT + 1)])
async def test_an_empty_or_oversized_message_is_refused_and_nothing_is_stored(text: str) -> None:
    _u, alice = await make_member()
    room = await channel(alice)
    with pytest.raises(Invalid):
        await say(alice, room, text)
    assert await history(alice, room) == []


async def test_a_post_retried_with_its_client_id_is_stored_once() -> None:
    _u, alice = await make_member()
    room = await channel(alice)
    first = await say(alice, room, "une fois", client_id="abc-1")
    again = await say(alice, room, "une fois", client_id="abc-1")
    assert again.id == first.id
    assert len(await history(alice, room)) == 1


async def test_a_reply_goes_to_its_thread_not_to_the_channel_and_counts_on_its_root() -> None:
    _u, alice = await make_member()
    room = await channel(alice)
    root = await say(alice, room, "Question ?")
    reply = await say(alice, room, "Réponse", thread_id=root.id)
    assert [m.id for m in await history(alice, room)] == [root.id]
    async with org_session(alice.org_id) as db:
        head, replies = await service.thread(db, alice, root.id)
        with pytest.raises(NotFound):
            await service.thread(db, alice, reply.id)  # a reply has no thread of its own
    assert head.reply_count == 1 and [r.id for r in replies] == [reply.id]
    with pytest.raises(NotFound):
        await say(alice, room, "réponse à une réponse", thread_id=reply.id)
    other = await channel(alice)
    with pytest.raises(NotFound):
        await say(alice, other, "fil d'un autre canal", thread_id=root.id)


async def test_only_the_author_edits_and_the_author_or_a_manager_deletes() -> None:
    org = await make_chat_org()
    _a, alice = await make_member(org)
    _b, bob = await make_member(org)
    room = await channel(alice)
    await join(bob, room)
    by_bob = await say(bob, room, "de Bob")
    async with org_session(org.id, write=True) as db:
        with pytest.raises(Forbidden):
            await service.edit(db, alice, by_bob.id, "réécrit par Alice")
        edited = await service.edit(db, bob, by_bob.id, "de Bob, corrigé")
        await db.commit()
    assert edited.edited_at is not None and edited.text == "de Bob, corrigé"
    by_alice = await say(alice, room, "d'Alice")
    async with org_session(org.id, write=True) as db:
        with pytest.raises(Forbidden):
            await service.delete(db, bob, by_alice.id)  # a member, not the author
        await service.delete(db, alice, by_bob.id)  # the channel's manager
        await db.commit()
    gone = next(m for m in await history(alice, room) if m.id == by_bob.id)
    assert gone.deleted and gone.text == "" and gone.html == ""


async def test_edits_and_deletions_keep_the_earlier_text_only_when_the_organisation_says_so() -> None:
    org = await make_chat_org()
    _a, admin = await make_member(org, role="admin")
    room = await channel(admin)
    first = await say(admin, room, "version 1")
    async with org_session(org.id, write=True) as db:
        await service.edit(db, admin, first.id, "version 2")
        await db.commit()
    async with org_session(org.id, write=True) as db:
        await service.change_rules(db, admin, retention_days=None, keep_history=True)
        await service.edit(db, admin, first.id, "version 3")
        await service.delete(db, admin, first.id)
        await db.commit()
    async with system_session() as db:
        kept = list(
            (await db.execute(select(Revision.text, Revision.change).where(Revision.message_id == first.id))).all()
        )
    assert sorted(kept) == [("version 2", "edit"), ("version 3", "delete")]


async def test_reactions_are_one_per_person_and_emoji_and_can_be_taken_back() -> None:
    org = await make_chat_org()
    _a, alice = await make_member(org)
    _b, bob = await make_member(org)
    room = await channel(alice)
    await join(bob, room)
    message = await say(alice, room)
    async with org_session(org.id, write=True) as db:
        await service.react(db, alice, message.id, "👍")
        await service.react(db, alice, message.id, "👍")
        changed = await service.react(db, bob, message.id, "👍")
        with pytest.raises(Invalid):
            await service.react(db, bob, message.id, "pas un emoji avec espaces")
        await db.commit()
    assert changed.reactions == {"👍": [str(alice.user_id), str(bob.user_id)]}
    async with org_session(org.id, write=True) as db:
        changed = await service.react(db, alice, message.id, "👍", on=False)
        await db.commit()
    assert changed.reactions == {"👍": [str(bob.user_id)]}


async def test_a_pinned_message_is_listed_until_unpinned() -> None:
    _u, alice = await make_member()
    room = await channel(alice)
    message = await say(alice, room, "À retenir")
    async with org_session(alice.org_id, write=True) as db:
        await service.pin(db, alice, message.id)
        await db.commit()
        assert [m.id for m in await service.pinned(db, alice, room)] == [message.id]
        await service.pin(db, alice, message.id, pinned=False)
        await db.commit()
        assert await service.pinned(db, alice, room) == []


async def test_unread_counts_what_others_posted_after_the_read_marker() -> None:
    org = await make_chat_org()
    _a, alice = await make_member(org)
    _b, bob = await make_member(org)
    room = await channel(alice)
    await join(bob, room)
    await say(alice, room, "un")
    last = await say(alice, room, "deux")
    await say(bob, room, "de Bob")  # one's own messages are not unread
    mine = {c.id: c for c in await listing(bob)}
    assert mine[room].unread == 0  # posting marks what came before as read
    root = await say(alice, room, "trois")
    await say(alice, room, "une réponse", thread_id=root.id)  # replies are not counted
    assert {c.id: c for c in await listing(bob)}[room].unread == 1
    async with org_session(org.id, write=True) as db:
        marker = await service.mark_read(db, bob, room, root.seq + 1000)  # not past the last message
        await db.commit()
    assert marker == root.seq
    assert {c.id: c for c in await listing(bob)}[room].unread == 0
    async with org_session(org.id, write=True) as db:
        assert await service.mark_read(db, bob, room, last.seq) == root.seq  # never backwards
        await db.commit()


async def test_a_mention_notifies_the_person_named_and_only_if_they_can_read_the_channel() -> None:
    org = await make_chat_org()
    _a, alice = await make_member(org)
    bob_user, bob = await make_member(org)
    carol_user, carol = await make_member(org)
    room = await channel(alice, private=True)
    async with org_session(org.id, write=True) as db:
        await service.add_members(db, alice, room, [bob.user_id])
        await db.commit()
    bob_handle = bob_user.email.split("@")[0]
    carol_handle = carol_user.email.split("@")[0]
    posted = await say(alice, room, f"@{bob_handle} et @{carol_handle}, regardez `@{bob_handle}`")
    assert f'data-user="{bob.user_id}"' in posted.html
    async with system_session() as db:
        to_bob = await notifications.latest(db, bob.user_id)
        to_carol = await notifications.latest(db, carol.user_id)
    assert len(to_bob) == 1 and to_bob[0].link == f"/chat/{room}?message={posted.id}"
    assert to_carol == []  # not in the private channel


async def test_a_direct_message_notifies_the_other_people_and_at_channel_everyone_not_muted() -> None:
    org = await make_chat_org()
    _a, alice = await make_member(org)
    _b, bob = await make_member(org)
    _c, carol = await make_member(org)
    talk = await direct(alice, bob)
    await say(alice, talk, "Salut Bob")
    room = await channel(alice)
    await join(bob, room)
    await join(carol, room)
    async with org_session(org.id, write=True) as db:
        await service.set_muted(db, carol, room, True)
        await db.commit()
    await say(alice, room, "@channel réunion à 10 h")
    async with system_session() as db:
        assert len(await notifications.latest(db, bob.user_id)) == 2
        assert await notifications.latest(db, carol.user_id) == []
        assert await notifications.latest(db, alice.user_id) == []


async def test_at_here_notifies_the_members_connected_now_and_asks_who_they_are_only_then() -> None:
    org = await make_chat_org()
    _a, alice = await make_member(org)
    _b, bob = await make_member(org)
    _c, carol = await make_member(org)
    room = await channel(alice)
    await join(bob, room)
    await join(carol, room)
    asked: list[str] = []

    def online() -> set[uuid.UUID]:
        asked.append("online")
        return {alice.user_id, bob.user_id}

    await say(alice, room, "Bonjour à tous", online=online)
    assert asked == []  # a message without @here does not go through the connections
    await say(alice, room, "@here on commence", online=online)
    assert asked == ["online"]
    async with system_session() as db:
        assert len(await notifications.latest(db, bob.user_id)) == 1
        assert await notifications.latest(db, carol.user_id) == []  # not connected
        assert await notifications.latest(db, alice.user_id) == []


async def test_every_change_is_one_event_of_the_log_numbered_in_order() -> None:
    _u, alice = await make_member()
    room = await channel(alice)
    message = await say(alice, room)
    async with org_session(alice.org_id, write=True) as db:
        await service.react(db, alice, message.id, "🎉")
        await service.edit(db, alice, message.id, "Bonjour !")
        await db.commit()
    async with system_session() as db:
        logged = list(
            (
                await db.execute(select(Event.seq, Event.kind).where(Event.org_id == alice.org_id).order_by(Event.seq))
            ).all()
        )
    kinds = [kind for _seq, kind in logged]
    assert kinds == ["joined", "joined", "message", "reactions", "edited"]
    assert [seq for seq, _k in logged] == list(range(logged[0][0], logged[0][0] + len(logged)))


async def test_a_message_of_another_organisation_is_not_found_everywhere() -> None:
    _u, alice = await make_member()
    _s, stranger = await make_member()
    room = await channel(alice)
    message = await say(alice, room)
    async with org_session(stranger.org_id, write=True) as db:
        for attempt in (
            service.history(db, stranger, room),
            service.post(db, stranger, room, "intrus"),
            service.one(db, stranger, message.id),
            service.thread(db, stranger, message.id),
            service.edit(db, stranger, message.id, "intrus"),
            service.delete(db, stranger, message.id),
            service.react(db, stranger, message.id, "👎"),
            service.pin(db, stranger, message.id),
            service.mark_read(db, stranger, room, 1),
            service.join(db, stranger, room),
            service.info(db, stranger, room),
            service.members(db, stranger, room),
        ):
            with pytest.raises(NotFound):
                await attempt
    assert uuid.UUID(str(room)) not in {c.id for c in await listing(stranger)}
