"""The chat's count in the shell's navigation: others' messages after the read markers,
muted conversations left out."""

from __future__ import annotations

import httpx
import pytest

from hexagone.chat import service
from hexagone.core.db import org_session
from tests.chat.factories import channel, join, make_chat_org, make_member, say
from tests.factories import login, shell_badge

pytestmark = pytest.mark.usefixtures("migrated")


async def test_the_navigation_counts_unread_messages_of_conversations_not_muted(client: httpx.AsyncClient) -> None:
    org = await make_chat_org()
    _a, alice = await make_member(org)
    bob_user, bob = await make_member(org)
    loud, quiet = await channel(alice), await channel(alice)
    for room in (loud, quiet):
        await join(bob, room)
        await say(alice, room, "un")
        await say(alice, room, "deux")
    async with org_session(org.id, write=True) as db:
        await service.set_muted(db, bob, quiet, True)
        await db.commit()
    await login(client, bob_user)
    assert shell_badge(await client.get("/shell/badges"), "badge-chat") == "2"
    last = await say(alice, loud, "trois")
    async with org_session(org.id, write=True) as db:
        await service.mark_read(db, bob, loud, last.seq)
        await db.commit()
    assert shell_badge(await client.get("/shell/badges"), "badge-chat") == ""
