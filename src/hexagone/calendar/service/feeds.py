"""Subscribed calendars (ICS feeds): a read-only calendar mirrors a feed on the web (a
holidays calendar, a partner's published agenda), fetched by a job when the
subscription is made and every ``calendar_feed_refresh_minutes`` after.

A fetch replaces the calendar's contents with the feed's events (one resource per UID;
an unchanged event keeps its ETag, so clients syncing the calendar see only what moved).
The server fetches on a user's behalf: a feed on a private, loopback or link-local
address is refused unless the operator allows it, a feed is read up to
:data:`MAX_FEED_BYTES` and for :data:`TIMEOUT` seconds, and a failed fetch keeps what
the calendar held and tries again at the next turn.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import socket
import uuid
from datetime import timedelta
from urllib.parse import urlsplit

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from hexagone.calendar import ical
from hexagone.calendar.models import Collection
from hexagone.calendar.policy import Reach
from hexagone.calendar.service import objects
from hexagone.calendar.service.ics_resources import split
from hexagone.core import jobs
from hexagone.core.config import get_settings
from hexagone.core.db import org_session, utcnow

log = logging.getLogger("hexagone.calendar.feeds")
FETCH_JOB = "calendar.feed"
MAX_FEED_BYTES = 10 * 1024 * 1024
TIMEOUT = 20.0


class FeedError(Exception):
    """The feed could not be read; the message says why (for the log)."""


def schedule(db: AsyncSession, collection: Collection, *, after: timedelta | None = None) -> None:
    """Have the feed fetched (now, or ``after`` from now), in the caller's transaction."""
    run_at = utcnow() + after if after is not None else None
    jobs.enqueue(db, FETCH_JOB, {"collection_id": collection.id}, org_id=collection.org_id, run_at=run_at)


async def _public(host: str) -> bool:
    """Whether every address ``host`` resolves to is a public one."""
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except OSError:
        return False
    addresses = {ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos}
    return bool(addresses) and all(a.is_global for a in addresses)


async def fetch(url: str, *, allow_private: bool) -> str:
    """The feed's text, or FeedError."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise FeedError(f"not an http(s) address: {url[:200]}")
    if not allow_private and not await _public(parts.hostname):
        raise FeedError(f"{parts.hostname} is not a public address")
    body = bytearray()
    try:
        async with (
            httpx.AsyncClient(timeout=TIMEOUT, follow_redirects=False) as client,
            client.stream("GET", url, headers={"accept": "text/calendar"}) as response,
        ):
            if response.status_code != 200:
                raise FeedError(f"answered {response.status_code}")
            async for chunk in response.aiter_bytes():
                body += chunk
                if len(body) > MAX_FEED_BYTES:
                    raise FeedError(f"larger than {MAX_FEED_BYTES} bytes")
    except httpx.HTTPError as exc:
        raise FeedError(f"{type(exc).__name__}") from exc
    try:
        return bytes(body).decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise FeedError("not UTF-8 text") from exc


async def mirror(db: AsyncSession, reach: Reach, text: str) -> tuple[int, int]:
    """Make the calendar hold exactly the feed's events; (written, removed)."""
    try:
        resources, _refused = split(ical.parse(text))
    except ical.InvalidCalendarData as exc:
        raise FeedError(str(exc)) from exc
    present = {o.uid: o for o in await objects.listing(db, reach)}
    written = removed = 0
    for uid, calendar in resources.items():
        data = calendar.to_ical().decode()
        existing = present.pop(uid[:255], None)
        if existing is not None and existing.etag == objects.etag_of(data):
            continue
        name = existing.name if existing is not None else f"{uuid.uuid4()}.ics"
        await objects.put(db, reach, name, data)
        written += 1
    for gone in present.values():
        await objects.remove(db, reach, gone.name)
        removed += 1
    return written, removed


async def fetch_job(job: jobs.Claimed) -> None:
    """The job: fetch the feed, mirror it, and plan the next fetch (as long as the
    subscription exists)."""
    assert job.org_id is not None
    settings = get_settings()
    async with org_session(job.org_id) as db:
        collection = await db.get(Collection, uuid.UUID(str(job.payload["collection_id"])))
        url = collection.subscription_url if collection is not None else ""
    if collection is None or not url:
        return
    try:
        text = await fetch(url, allow_private=settings.calendar_feed_allow_private)
        async with org_session(job.org_id, write=True) as db:
            current = await db.get(Collection, collection.id)
            if current is None:
                return  # unsubscribed while the feed was read
            written, removed = await mirror(db, Reach(current), text)
            await db.commit()
        log.info("feed of calendar %s: %d written, %d removed", collection.id, written, removed)
    except FeedError as exc:
        log.warning("feed of calendar %s not fetched: %s", collection.id, exc)
    async with org_session(job.org_id) as db:
        schedule(db, collection, after=timedelta(minutes=settings.calendar_feed_refresh_minutes))
        await db.commit()


FETCH = jobs.JobSpec(FETCH_JOB, fetch_job)
