"""\\Recent (RFC 3501 2.3.2): a message is recent in exactly one session, the first to
select its folder read-write after it arrived (or, if one already has it selected, the
first to notice it); EXAMINE and STATUS see what no session has claimed without claiming
it."""

from __future__ import annotations

import asyncio
import re

import pytest

from tests.factories import TestUser
from tests.mail.factories import deliver
from tests.mail.imap.conftest import Raw

pytestmark = pytest.mark.usefixtures("migrated")


def recent_count(lines: list[bytes]) -> int:
    [count] = [int(m.group(1)) for line in lines if (m := re.fullmatch(rb"\* (\d+) RECENT", line))]
    return count


async def test_recent_first_select_claims_the_new_messages_and_the_next_sees_none(raw, user: TestUser) -> None:
    await deliver(user)
    await deliver(user)
    first, second = raw(user), raw(user)
    assert recent_count(first.command(b"s", b"SELECT INBOX")) == 2
    assert recent_count(second.command(b"s", b"SELECT INBOX")) == 0
    recent = [b"* 1 FETCH (FLAGS (\\Recent))", b"* 2 FETCH (FLAGS (\\Recent))"]
    assert first.command(b"f", b"FETCH 1:2 (FLAGS)")[:2] == recent
    assert second.command(b"f", b"FETCH 1:2 (FLAGS)")[:2] == [b"* 1 FETCH (FLAGS ())", b"* 2 FETCH (FLAGS ())"]
    assert second.command(b"r", b"SEARCH RECENT") == [b"* SEARCH", b"r OK SEARCH completed"]
    assert first.command(b"r", b"SEARCH RECENT") == [b"* SEARCH 1 2", b"r OK SEARCH completed"]


async def test_recent_examine_and_status_see_unclaimed_messages_without_claiming_them(raw, user: TestUser) -> None:
    await deliver(user)
    looker = raw(user)
    assert looker.command(b"t", b"STATUS INBOX (RECENT)")[0] == b'* STATUS "INBOX" (RECENT 1)'
    assert recent_count(looker.command(b"e", b"EXAMINE INBOX")) == 1
    assert recent_count(raw(user).command(b"s", b"SELECT INBOX")) == 1  # still unclaimed
    assert looker.command(b"t", b"STATUS INBOX (RECENT)")[0] == b'* STATUS "INBOX" (RECENT 0)'


async def test_recent_arrival_watched_by_several_sessions_is_recent_in_one_only(raw, user: TestUser) -> None:
    await deliver(user)
    sessions: list[Raw] = [raw(user) for _ in range(4)]
    for session in sessions:
        session.command(b"s", b"SELECT INBOX")
    await deliver(user)
    for session in sessions:
        assert b"* 2 EXISTS" in session.command(b"n", b"NOOP")
    holders = [s for s in sessions if s.command(b"f", b"FETCH 2 (FLAGS)")[0] == b"* 2 FETCH (FLAGS (\\Recent))"]
    assert len(holders) == 1


async def test_recent_sessions_racing_to_select_claim_each_message_once(raw, user: TestUser) -> None:
    for _ in range(3):
        await deliver(user)
    sessions = [raw(user) for _ in range(6)]
    for session in sessions:
        session.send(b"s SELECT INBOX\r\n")
    counts = await asyncio.gather(*(asyncio.to_thread(lambda s=s: recent_count(s.until(b"s"))) for s in sessions))
    assert sorted(counts) == [0, 0, 0, 0, 0, 3]
