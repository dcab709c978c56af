"""What a write schedules, whichever way the writer's address is written: folded across
lines or in capitals it is still theirs, and a write that names them nowhere schedules
nothing (the fast path that skips parsing)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from hexagone.calendar.models import CollectionKind
from hexagone.calendar.service import collections, objects
from hexagone.core.db import org_session
from hexagone.core.jobs.models import Job
from tests.calendar.factories import event, make_calendar_org, write_event
from tests.factories import TestUser, make_user, principal

pytestmark = pytest.mark.usefixtures("migrated")
START = datetime(2027, 5, 10, 9, 0, tzinfo=UTC)


async def _has(user: TestUser, uid: str) -> bool:
    me = await principal(user)
    async with org_session(me.org_id) as db:
        for reach in await collections.visible(db, me, CollectionKind.CALENDAR):
            if await objects.by_uid(db, reach, uid) is not None:
                return True
    return False


async def _jobs(user: TestUser) -> int:
    async with org_session(user.org_id) as db:
        return int(await db.scalar(select(func.count()).select_from(Job).where(Job.org_id == user.org_id)) or 0)


async def test_after_write_organisers_address_folded_and_in_capitals_still_invites_the_colleague() -> None:
    org = await make_calendar_org()
    alice, bob = await make_user(org), await make_user(org)
    uid = f"{uuid.uuid4()}@tests"
    text = event(uid=uid, start=START, organizer=alice.email, attendees=(bob.email,))
    address = alice.email.upper()
    text = text.replace(f"ORGANIZER:mailto:{alice.email}", f"ORGANIZER:mailto:{address[:4]}\r\n {address[4:]}")
    assert alice.email not in text.lower()  # only unfolded does it name her
    await write_event(await principal(alice), "folded.ics", text)
    assert await _has(bob, uid)


async def test_after_write_of_an_event_naming_the_writer_nowhere_schedules_nothing() -> None:
    org = await make_calendar_org()
    carol, bob = await make_user(org), await make_user(org)
    uid = f"{uuid.uuid4()}@tests"
    before = await _jobs(carol)
    text = event(uid=uid, start=START, organizer=f"someone@{org.domain}", attendees=(bob.email,))
    await write_event(await principal(carol), "others.ics", text)
    assert not await _has(bob, uid)
    assert await _jobs(carol) == before  # no mail queued either
