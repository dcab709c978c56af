"""The cache of rendered ENVELOPEs and BODYSTRUCTUREs: bounded by bytes, least recently
used first out, and FETCH answers the same with or without it."""

from __future__ import annotations

import pytest

from hexagone.mail.imap.rendered import ENTRY_OVERHEAD, RenderCache
from tests.factories import TestUser
from tests.mail.factories import deliver

pytestmark = pytest.mark.usefixtures("migrated")


def test_rendered_cache_keeps_within_its_bytes_and_drops_the_least_recently_used() -> None:
    cache = RenderCache(limit=3 * (100 + ENTRY_OVERHEAD))
    for key in "abc":
        cache.put(key, key.encode() * 100)
    assert cache.get("a") == b"a" * 100  # now the most recently used
    cache.put("d", b"d" * 100)
    assert cache.get("b") is None and cache.get("a") and cache.get("c") and cache.get("d")


async def test_rendered_fetch_answers_the_same_from_the_cache(raw, user: TestUser) -> None:
    await deliver(user, subject="same bytes twice", message_id="<twice@example.org>")
    await deliver(user, subject="same bytes twice", message_id="<twice@example.org>")
    client = raw(user)
    client.command(b"s", b"SELECT INBOX")
    first = client.command(b"a", b"FETCH 1:2 (ENVELOPE BODYSTRUCTURE BODY)")
    second = client.command(b"b", b"FETCH 1:2 (ENVELOPE BODYSTRUCTURE BODY)")
    assert first[:2] == second[:2] and b"same bytes twice" in first[0]
    assert first[0].split(b"FETCH", 1)[1] != b"" and b"BODYSTRUCTURE (" in first[1] and b" BODY (" in first[1]
