"""Calendars and address books out and back in: the organisation export (every calendar
as .ics, every address book as .vcf) restored into the organisation, and ``hexagone
calendar import`` from an .ics file, from an export, and from a real Radicale server
(CalDAV through the caldav library, CardDAV through PROPFIND/REPORT) on loopback."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import caldav
import httpx
import icalendar
import pytest
import vobject
from sqlalchemy import delete

from hexagone.calendar import org_export
from hexagone.calendar.models import CollectionKind, DavObject
from hexagone.calendar.service import collections, contacts, objects
from hexagone.core.db import org_session
from hexagone.core.export import export_organisation
from tests.calendar.factories import contact, event, make_calendar_org
from tests.commands import hexagone
from tests.conftest import free_port, server_env
from tests.factories import TestUser, make_user, principal

pytestmark = pytest.mark.usefixtures("migrated")
PARIS = (
    "BEGIN:VTIMEZONE\r\nTZID:Europe/Paris\r\nBEGIN:STANDARD\r\nDTSTART:19701025T030000\r\n"
    "TZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\n"
)


async def _furnished() -> tuple[TestUser, dict[str, str]]:
    """A user with two events (one in Paris time) and two contacts; their texts by UID."""
    user = await make_user(await make_calendar_org())
    me = await principal(user)
    zoned = (
        event(uid="zoned@t", summary="Heure de Paris")
        .replace("BEGIN:VEVENT", PARIS + "BEGIN:VEVENT", 1)
        .replace("DTSTART:20270301T090000Z", "DTSTART;TZID=Europe/Paris:20270301T100000")
    )
    texts = {"plain@t": event(uid="plain@t", summary="Réunion"), "zoned@t": zoned}
    cards = {"card-1": contact(uid="card-1", name="Anne Une"), "card-2": contact(uid="card-2", name="Bob Deux")}
    async with org_session(me.org_id, write=True) as db:
        await collections.ensure_defaults(db, me)
        [calendar] = await collections.visible(db, me, CollectionKind.CALENDAR)
        [book] = await collections.visible(db, me, CollectionKind.ADDRESS_BOOK)
        for uid, text in texts.items():
            await objects.put(db, calendar, f"{uid}.ics", text)
        for uid, text in cards.items():
            await objects.put(db, book, f"{uid}.vcf", text)
        await db.commit()
    return user, {**texts, **cards}


async def _stored(user: TestUser) -> dict[str, str]:
    """UID -> title of everything in the user's own collections."""
    me = await principal(user)
    found = {}
    async with org_session(me.org_id) as db:
        for kind in (CollectionKind.CALENDAR, CollectionKind.ADDRESS_BOOK):
            for reach in await collections.visible(db, me, kind):
                if reach.collection.owner_id == me.user_id:
                    found.update({o.uid: o.title for o in await objects.listing(db, reach)})
    return found


async def test_org_export_holds_ics_and_vcf_and_restore_brings_them_back(tmp_path: Path) -> None:
    user, _texts = await _furnished()
    before = await _stored(user)
    target = tmp_path / "org.zip"
    await export_organisation([("calendar", org_export.export_organisation)], user.org_id, {}, target)
    with zipfile.ZipFile(target) as archive:
        ics = icalendar.Calendar.from_ical(archive.read(f"calendar/users/{user.email}/agenda.ics"))
        vcf = archive.read(f"calendar/users/{user.email}/contacts.vcf").decode()
    async with org_session(user.org_id) as db:
        await db.execute(delete(DavObject))
        await db.commit()
    assert await _stored(user) == {}

    first, skipped = await org_export.restore(target, user.org_id)
    again, _ = await org_export.restore(target, user.org_id)

    assert sorted(str(e["uid"]) for e in ics.walk("VEVENT")) == ["plain@t", "zoned@t"]
    assert [str(z["tzid"]) for z in ics.walk("VTIMEZONE")] == ["Europe/Paris"]
    assert sorted(c.fn.value for c in vobject.readComponents(vcf)) == ["Anne Une", "Bob Deux"]
    assert await _stored(user) == before and skipped == []
    assert (first.created, first.updated, again.created, again.updated) == (4, 0, 0, 4)
    async with org_session(user.org_id) as db:
        me = await principal(user)
        [calendar] = await collections.visible(db, me, CollectionKind.CALENDAR)
        zoned = await objects.by_uid(db, calendar, "zoned@t")
    assert zoned is not None and "TZID:Europe/Paris" in zoned.data  # its time zone came with it


def _import(*args: str) -> dict[str, object]:
    done = hexagone("calendar", "import", *args, "--json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


async def test_cli_imports_an_ics_file_into_a_named_calendar_and_says_when_there_is_none(tmp_path: Path) -> None:
    user = await make_user(await make_calendar_org())
    path = tmp_path / "old.ics"
    calendar = icalendar.Calendar.from_ical(event(uid="a@t", summary="Un"))
    calendar.add_component(icalendar.Calendar.from_ical(event(uid="b@t", summary="Deux")).walk("VEVENT")[0])
    path.write_bytes(calendar.to_ical())

    first = await asyncio.to_thread(_import, str(path), "--user", user.email, "--calendar", "ancien")
    bad = hexagone("calendar", "import", str(tmp_path / "missing.ics"), "--user", user.email)

    assert first["collections"] == {"ancien": {"created": 2, "updated": 0}}
    assert await _stored(user) == {"a@t": "Un", "b@t": "Deux"}
    assert bad.returncode == 2 and "missing.ics" in bad.stderr


@pytest.fixture
def radicale(tmp_path: Path) -> Iterator[str]:
    """Radicale on loopback, with user alice (password "secret"), one calendar with two
    events and one address book with two contacts."""
    users = tmp_path / "users"
    users.write_text("alice:secret\n")
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "radicale",
            "--server-hosts",
            f"127.0.0.1:{port}",
            "--storage-filesystem-folder",
            str(tmp_path / "collections"),
            "--auth-type",
            "htpasswd",
            "--auth-htpasswd-filename",
            str(users),
            "--auth-htpasswd-encryption",
            "plain",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                httpx.get(base, timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.05)
        with caldav.DAVClient(url=f"{base}/alice/", username="alice", password="secret") as client:
            calendar = client.principal().make_calendar(name="Travail", cal_id="travail")
            calendar.save_event(event(uid="r1@t", summary="Radicale un"))
            calendar.save_event(event(uid="r2@t", summary="Radicale deux"))
        auth = ("alice", "secret")
        mkcol = (
            '<?xml version="1.0"?><d:mkcol xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:carddav"><d:set><d:prop>'
            "<d:resourcetype><d:collection/><c:addressbook/></d:resourcetype><d:displayname>Carnet</d:displayname>"
            "</d:prop></d:set></d:mkcol>"
        )
        assert httpx.request("MKCOL", f"{base}/alice/carnet/", content=mkcol, auth=auth).status_code == 201
        for uid, name in (("rc1", "Carla Radicale"), ("rc2", "Denis Radicale")):
            put = httpx.put(
                f"{base}/alice/carnet/{uid}.vcf",
                content=contact(uid=uid, name=name),
                headers={"content-type": "text/vcard"},
                auth=auth,
            )
            assert put.status_code == 201, put.text
        yield base
    finally:
        process.terminate()
        process.wait(10)


async def test_cli_imports_every_calendar_and_address_book_of_a_radicale_account(radicale: str) -> None:
    user = await make_user(await make_calendar_org())

    result = await asyncio.to_thread(
        _import, f"{radicale}/alice/", "--user", user.email, "--username", "alice", "--password", "secret"
    )
    refused = hexagone(
        "calendar",
        "import",
        f"{radicale}/alice/",
        "--user",
        user.email,
        "--username",
        "alice",
        env=server_env(HEXAGONE_IMPORT_PASSWORD="wrong"),
    )

    assert result["collections"] == {"travail": {"created": 2, "updated": 0}, "carnet": {"created": 2, "updated": 0}}
    stored = await _stored(user)
    assert {stored[k] for k in ("r1@t", "r2@t", "rc1", "rc2")} == {
        "Radicale un",
        "Radicale deux",
        "Carla Radicale",
        "Denis Radicale",
    }
    assert refused.returncode == 2 and refused.stderr.strip()
    me = await principal(user)
    async with org_session(me.org_id) as db:
        books = {b.slug for b in await contacts.books(db, me)}
    assert "carnet" in books
