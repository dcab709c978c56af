"""Subscribed calendars: a feed served over HTTP on loopback is mirrored into the
read-only calendar (one resource per UID, unchanged events keep their ETag, events gone
from the feed go), the job plans the next fetch, and the server refuses to fetch from a
private or loopback address unless the operator allows it."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import icalendar
import pytest
from sqlalchemy import select

from hexagone.calendar.models import Collection
from hexagone.calendar.policy import Reach
from hexagone.calendar.service import calendar_files, collections, feeds, objects
from hexagone.core.db import org_session
from hexagone.core.exceptions import Forbidden
from hexagone.core.jobs.models import Job
from hexagone.identity.service import load_principal
from tests.calendar.factories import event, make_calendar_org
from tests.factories import make_user, principal

pytestmark = pytest.mark.usefixtures("migrated")


class Feed:
    """An ICS feed on loopback whose contents a test changes."""

    def __init__(self) -> None:
        self.text = ""
        feed = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body = feed.text.encode()
                self.send_response(200 if body else 404)
                self.send_header("content-type", "text/calendar; charset=utf-8")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/jours-feries.ics"

    def serve(self, *events: str) -> None:
        merged = icalendar.Calendar()
        merged.add("prodid", "-//Feed//FR")
        merged.add("version", "2.0")
        for text in events:
            for component in icalendar.Calendar.from_ical(text).walk("VEVENT"):
                merged.add_component(component)
        self.text = merged.to_ical().decode()


@pytest.fixture(scope="module")
def feed() -> Iterator[Feed]:
    served = Feed()
    thread = threading.Thread(target=served.server.serve_forever, daemon=True)
    thread.start()
    yield served
    served.server.shutdown()


async def _subscribed(url: str) -> Reach:
    me = await principal(await make_user(await make_calendar_org()))
    async with org_session(me.org_id, write=True) as db:
        made = await calendar_files.subscribe(db, me, url=url, name="Jours fériés")
        await db.commit()
        return Reach(await db.get(Collection, made.id))  # type: ignore[arg-type]


async def test_feed_mirrored_keeps_unchanged_events_and_drops_those_gone(feed: Feed) -> None:
    reach = await _subscribed(feed.url)
    noel, paques, ascension = (
        event(uid="noel@feed", summary="Noël", start=datetime(2027, 12, 25, tzinfo=UTC)),
        event(uid="paques@feed", summary="Pâques", start=datetime(2027, 3, 28, tzinfo=UTC)),
        event(uid="ascension@feed", summary="Ascension", start=datetime(2027, 5, 6, tzinfo=UTC)),
    )
    feed.serve(noel, paques)
    async with org_session(reach.org_id, write=True) as db:
        assert await feeds.mirror(db, reach, await feeds.fetch(feed.url, allow_private=True)) == (2, 0)
        await db.commit()
        before = {o.uid: o.etag for o in await objects.listing(db, reach)}
    feed.serve(noel, ascension)
    async with org_session(reach.org_id, write=True) as db:
        assert await feeds.mirror(db, reach, await feeds.fetch(feed.url, allow_private=True)) == (1, 1)
        await db.commit()
        after = {o.uid: o.etag for o in await objects.listing(db, reach)}
    assert set(after) == {"noel@feed", "ascension@feed"} and after["noel@feed"] == before["noel@feed"]


async def test_feed_subscription_plans_a_fetch_and_the_calendar_stays_read_only(feed: Feed) -> None:
    reach = await _subscribed(feed.url)
    async with org_session(reach.org_id) as db:
        planned = (await db.execute(select(Job.payload).where(Job.kind == feeds.FETCH_JOB))).scalars()
        assert {"collection_id": str(reach.collection.id)} in list(planned)
    async with org_session(reach.org_id) as db:
        owner = await load_principal(db, reach.collection.owner_id)  # type: ignore[arg-type]
        assert owner is not None
        with pytest.raises(Forbidden):
            await collections.reach(db, owner, reach.collection.id, "write")


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:9/x.ics", "http://localhost/x.ics", "http://10.0.0.1/x.ics", "file:///etc/passwd"]
)
async def test_feed_on_a_private_address_or_another_scheme_is_not_fetched(url: str) -> None:
    with pytest.raises(feeds.FeedError):
        await feeds.fetch(url, allow_private=False)


async def test_feed_that_is_not_icalendar_changes_nothing(feed: Feed) -> None:
    reach = await _subscribed(feed.url)
    feed.text = "<html>not a calendar</html>"
    async with org_session(reach.org_id, write=True) as db:
        with pytest.raises(feeds.FeedError):
            await feeds.mirror(db, reach, await feeds.fetch(feed.url, allow_private=True))
        assert await objects.listing(db, reach) == []
