"""The calendar store as every protocol and page uses it: collections every user starts
with, resources written under ETag preconditions, sync changes, time-range candidates
(recurrences expanded), and the policy deciding who reaches a collection."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from hexagone.calendar.models import Access, CollectionKind
from hexagone.calendar.service import collections, objects
from hexagone.core.db import org_session
from hexagone.core.exceptions import Conflict, Forbidden, Invalid, NotFound, PreconditionFailed
from tests.calendar.factories import contact, event, make_calendar_org
from tests.factories import make_space, make_user, principal, unique

pytestmark = pytest.mark.usefixtures("migrated")
WEEK = (datetime(2027, 3, 1, tzinfo=UTC), datetime(2027, 3, 8, tzinfo=UTC))


async def _member(org=None, role="user"):  # type: ignore[no-untyped-def]
    org = org or await make_calendar_org()
    user = await make_user(org, role=role)
    me = await principal(user)
    async with org_session(me.org_id) as db:
        await collections.ensure_defaults(db, me)
        await db.commit()
    return org, me


async def _own(me, kind=CollectionKind.CALENDAR):  # type: ignore[no-untyped-def]
    async with org_session(me.org_id) as db:
        [found] = [r for r in await collections.visible(db, me, kind) if r.collection.owner_id == me.user_id]
        return found.collection.id


async def test_defaults_a_member_starts_with_one_calendar_and_one_address_book() -> None:
    _org, me = await _member()
    async with org_session(me.org_id) as db:
        await collections.ensure_defaults(db, me)  # twice: nothing more
        await db.commit()
        calendars = await collections.visible(db, me, CollectionKind.CALENDAR)
        books = await collections.visible(db, me, CollectionKind.ADDRESS_BOOK)
    assert [c.collection.slug for c in calendars] == ["agenda"]
    assert [b.collection.slug for b in books] == ["contacts"]


async def test_defaults_a_guest_gets_no_calendar_of_their_own() -> None:
    _org, guest = await _member(role="guest")
    async with org_session(guest.org_id) as db:
        assert await collections.visible(db, guest, CollectionKind.CALENDAR) == []


async def test_put_then_get_returns_the_text_with_a_stable_etag_and_a_new_sync_number() -> None:
    _org, me = await _member()
    text = event(summary="Comité")
    async with org_session(me.org_id, write=True) as db:
        reach = await collections.reach(db, me, await _own(me), "write")
        stored, created = await objects.put(db, reach, "a.ics", text)
        await db.commit()
        got = await objects.get(db, reach, "a.ics")
    assert created and got.data == text and got.etag == stored.etag == objects.etag_of(text)
    assert got.title == "Comité" and got.seq == 1


async def test_put_with_a_stale_etag_is_refused_and_keeps_the_first_write() -> None:
    _org, me = await _member()
    first, second = event(uid="x@t", summary="v1"), event(uid="x@t", summary="v2")
    async with org_session(me.org_id, write=True) as db:
        reach = await collections.reach(db, me, await _own(me), "write")
        stored, _ = await objects.put(db, reach, "x.ics", first)
        with pytest.raises(PreconditionFailed):
            await objects.put(db, reach, "x.ics", second, if_match="stale")
        with pytest.raises(PreconditionFailed):
            await objects.put(db, reach, "x.ics", second, if_none_match=True)
        _, created = await objects.put(db, reach, "x.ics", second, if_match=stored.etag)
        assert not created and (await objects.get(db, reach, "x.ics")).title == "v2"


async def test_put_of_a_uid_already_stored_under_another_name_is_a_conflict() -> None:
    _org, me = await _member()
    async with org_session(me.org_id, write=True) as db:
        reach = await collections.reach(db, me, await _own(me), "write")
        await objects.put(db, reach, "one.ics", event(uid="same@t"))
        with pytest.raises(Conflict):
            await objects.put(db, reach, "two.ics", event(uid="same@t"))


@pytest.mark.parametrize(
    "text",
    [
        "not a calendar",
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n",
        event().replace("UID:", "X-NO-UID:"),
        "BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\n" + event().split("\r\n", 1)[1],
    ],
    ids=["garbage", "no-component", "no-uid", "with-method"],
)
async def test_put_of_invalid_calendar_data_is_refused_with_a_reason(text: str) -> None:
    _org, me = await _member()
    async with org_session(me.org_id, write=True) as db:
        reach = await collections.reach(db, me, await _own(me), "write")
        with pytest.raises(Invalid) as refused:
            await objects.put(db, reach, "bad.ics", text)
    assert refused.value.message


async def test_put_of_a_contact_into_an_address_book_indexes_its_name_and_emails() -> None:
    _org, me = await _member()
    async with org_session(me.org_id, write=True) as db:
        reach = await collections.reach(db, me, await _own(me, CollectionKind.ADDRESS_BOOK), "write")
        stored, _ = await objects.put(db, reach, "c.vcf", contact(name="Jean Moulin", emails=("Jean@Partner.test",)))
        with pytest.raises(Invalid):
            await objects.put(db, reach, "e.vcf", event())
    assert stored.component == "VCARD" and stored.title == "Jean Moulin"


async def test_changes_since_a_token_name_the_written_and_the_deleted() -> None:
    _org, me = await _member()
    async with org_session(me.org_id, write=True) as db:
        reach = await collections.reach(db, me, await _own(me), "write")
        await objects.put(db, reach, "a.ics", event())
        await objects.put(db, reach, "b.ics", event())
        await db.commit()
        token = (await objects.changes(db, await collections.reach(db, me, reach.collection.id), 0)).token
        await objects.put(db, reach, "c.ics", event())
        await objects.remove(db, reach, "a.ics")
        await db.commit()
        later = await objects.changes(db, await collections.reach(db, me, reach.collection.id), token)
        with pytest.raises(Invalid):
            await objects.changes(db, reach, later.token + 10)
    assert token == 2 and [c.name for c in later.changed] == ["c.ics"] and later.deleted == ["a.ics"]
    assert later.token == 4


async def test_overlapping_returns_events_in_the_range_and_expands_recurrences() -> None:
    _org, me = await _member()
    async with org_session(me.org_id, write=True) as db:
        reach = await collections.reach(db, me, await _own(me), "write")
        await objects.put(db, reach, "in.ics", event(start=datetime(2027, 3, 3, 10, tzinfo=UTC)))
        await objects.put(db, reach, "before.ics", event(start=datetime(2027, 2, 1, 10, tzinfo=UTC)))
        await objects.put(
            db, reach, "weekly.ics", event(start=datetime(2027, 1, 4, 8, tzinfo=UTC), rrule={"FREQ": "WEEKLY"})
        )
        await objects.put(
            db,
            reach,
            "monthly-on-15.ics",
            event(start=datetime(2027, 1, 15, 8, tzinfo=UTC), rrule={"FREQ": "MONTHLY"}),
        )
        await objects.put(db, reach, "allday.ics", event(start=date(2027, 3, 7), length=timedelta(days=1)))
        await objects.put(db, reach, "allday-after.ics", event(start=date(2027, 3, 9), length=timedelta(days=1)))
        found = await objects.overlapping(db, reach, *WEEK)
    assert sorted(o.name for o in found) == ["allday.ics", "in.ics", "weekly.ics"]


async def test_overlapping_an_unbounded_rule_far_in_the_future_still_answers() -> None:
    _org, me = await _member()
    async with org_session(me.org_id, write=True) as db:
        reach = await collections.reach(db, me, await _own(me), "write")
        secondly = event(
            start=datetime(2027, 1, 1, tzinfo=UTC), length=timedelta(seconds=1), rrule={"FREQ": "MINUTELY"}
        )
        await objects.put(db, reach, "minutely.ics", secondly)
        far = datetime(2090, 6, 1, tzinfo=UTC)
        found = await objects.overlapping(db, reach, far, far + timedelta(minutes=5))
    assert [o.name for o in found] == ["minutely.ics"]


async def test_reach_another_users_calendar_is_not_found_until_shared() -> None:
    org, owner = await _member()
    _org, other = await _member(org)
    calendar = await _own(owner)
    async with org_session(owner.org_id, write=True) as db:
        with pytest.raises(NotFound):
            await collections.reach(db, other, calendar)
        await collections.share(db, owner, calendar, user_id=other.user_id, access=Access.READ)
        await db.commit()
        assert (await collections.reach(db, other, calendar)).collection.id == calendar
        with pytest.raises(Exception) as refused:
            await collections.reach(db, other, calendar, "write")
    assert refused.value.status == 403  # type: ignore[attr-defined]


async def test_reach_from_another_organisation_is_not_found_even_for_its_admin() -> None:
    _org, owner = await _member()
    _other_org, admin = await _member(role="admin")
    calendar = await _own(owner)
    async with org_session(admin.org_id) as db:
        with pytest.raises(NotFound):
            await collections.reach(db, admin, calendar)


async def test_create_refuses_a_second_collection_with_the_same_name() -> None:
    _org, me = await _member()
    async with org_session(me.org_id, write=True) as db:
        made = await collections.create(db, me, CollectionKind.CALENDAR, name="Projet", slug="projet")
        with pytest.raises(Conflict):
            await collections.create(db, me, CollectionKind.CALENDAR, name="Autre", slug="projet")
        with pytest.raises(Invalid):
            await collections.create(db, me, CollectionKind.CALENDAR, name="X", color="red")
    assert made.access == Access.DELEGATE and made.abilities["manage"]


async def test_remove_of_a_collection_by_someone_it_is_shared_with_is_forbidden() -> None:
    org, owner = await _member()
    _org, other = await _member(org)
    calendar = await _own(owner)
    async with org_session(owner.org_id, write=True) as db:
        await collections.share(db, owner, calendar, user_id=other.user_id, access=Access.WRITE)
        with pytest.raises(Exception) as refused:
            await collections.remove(db, other, calendar)
        assert refused.value.status == 403  # type: ignore[attr-defined]
        await collections.remove(db, owner, calendar)
        with pytest.raises(NotFound):
            await collections.reach(db, owner, calendar)


async def test_defaults_each_space_gets_a_calendar_its_members_write_and_readers_read() -> None:
    org = await make_calendar_org()
    owner, reader = await make_user(org), await make_user(org)
    space = await make_space(owner, members={reader: "reader"}, name=unique("Projet "))
    owner_p, reader_p = await principal(owner), await principal(reader)
    outsider = await principal(await make_user(org))
    async with org_session(org.id, write=True) as db:
        await collections.ensure_defaults(db, reader_p)
        await db.commit()
        [shared] = [r for r in await collections.visible(db, owner_p, CollectionKind.CALENDAR) if r.collection.space_id]
        assert shared.collection.space_id == space.id and shared.collection.name == space.name
        assert (
            await collections.reach(db, owner_p, shared.collection.id, "write")
        ).collection.id == shared.collection.id
        with pytest.raises(Forbidden):
            await collections.reach(db, reader_p, shared.collection.id, "write")
        with pytest.raises(NotFound):
            await collections.reach(db, outsider, shared.collection.id)


async def test_overlapping_after_an_edit_that_makes_an_event_repeat_finds_its_later_occurrences() -> None:
    _org, me = await _member()
    far = (datetime(2031, 3, 3, tzinfo=UTC), datetime(2031, 3, 10, tzinfo=UTC))
    async with org_session(me.org_id, write=True) as db:
        reach = await collections.reach(db, me, await _own(me), "write")
        first = datetime(2027, 3, 1, 9, tzinfo=UTC)
        await objects.put(db, reach, "e.ics", event(uid="e", start=first))
        single = [o.name for o in await objects.overlapping(db, reach, *far)]
        await objects.put(db, reach, "e.ics", event(uid="e", start=first, rrule={"FREQ": "WEEKLY"}))
        weekly = [o.name for o in await objects.overlapping(db, reach, *far)]
        await objects.put(db, reach, "e.ics", event(uid="e", start=first, rrule={"FREQ": "WEEKLY", "COUNT": 3}))
        counted = [o.name for o in await objects.overlapping(db, reach, *far)]
        third_week = [
            o.name for o in await objects.overlapping(db, reach, first + timedelta(weeks=2), first + timedelta(weeks=3))
        ]
    assert (single, weekly, counted, third_week) == ([], ["e.ics"], [], ["e.ics"])


async def test_overlapping_after_an_edit_that_ends_a_rule_forgets_its_later_occurrences() -> None:
    _org, me = await _member()
    async with org_session(me.org_id, write=True) as db:
        reach = await collections.reach(db, me, await _own(me), "write")
        first = datetime(2027, 3, 1, 9, tzinfo=UTC)
        await objects.put(db, reach, "e.ics", event(uid="e", start=first, rrule={"FREQ": "DAILY"}))
        before = [
            o.name
            for o in await objects.overlapping(
                db, reach, datetime(2028, 1, 1, tzinfo=UTC), datetime(2028, 1, 2, tzinfo=UTC)
            )
        ]
        until = datetime(2027, 3, 10, tzinfo=UTC)
        await objects.put(db, reach, "e.ics", event(uid="e", start=first, rrule={"FREQ": "DAILY", "UNTIL": until}))
        after = [
            o.name
            for o in await objects.overlapping(
                db, reach, datetime(2028, 1, 1, tzinfo=UTC), datetime(2028, 1, 2, tzinfo=UTC)
            )
        ]
        last_day = [o.name for o in await objects.overlapping(db, reach, datetime(2027, 3, 9, tzinfo=UTC), until)]
    assert (before, after, last_day) == (["e.ics"], [], ["e.ics"])


async def test_overlapping_finds_short_and_long_events_whatever_the_range_cuts() -> None:
    _org, me = await _member()
    async with org_session(me.org_id, write=True) as db:
        reach = await collections.reach(db, me, await _own(me), "write")
        monday = datetime(2027, 3, 1, tzinfo=UTC)
        # begins 8 days before the range and ends inside it: still short, found by its start
        await objects.put(
            db, reach, "eight-days.ics", event(start=monday - timedelta(days=8), length=timedelta(days=8, hours=1))
        )
        # a three-week conference around the range: long, found by both ends
        await objects.put(
            db, reach, "conference.ics", event(start=monday - timedelta(days=10), length=timedelta(weeks=3))
        )
        await objects.put(db, reach, "ended.ics", event(start=monday - timedelta(days=8), length=timedelta(days=8)))
        await objects.put(db, reach, "later.ics", event(start=monday + timedelta(days=7)))
        found = await objects.overlapping(db, reach, monday, monday + timedelta(days=7))
    assert sorted(o.name for o in found) == ["conference.ics", "eight-days.ics"]
