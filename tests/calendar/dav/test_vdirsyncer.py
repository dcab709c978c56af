"""Two-way sync of a calendar and an address book with vdirsyncer (Debian package), then
khal and khard (Debian packages) reading what vdirsyncer wrote: three programs nobody
here wrote, as a person running them at home would."""

from __future__ import annotations

import subprocess
from pathlib import Path

import httpx

from tests.calendar.dav.helpers import CALDAV_TYPE, VCARD_TYPE, book_path, calendar_path, dav_client, hrefs
from tests.calendar.factories import contact, event
from tests.conftest import Server
from tests.factories import TestOrg, TestUser, make_user


def _config(tmp: Path, server: Server, user: TestUser) -> Path:
    remote = f'url = "{server.base_url}/"\nusername = "{user.email}"\npassword = "{user.password}"\n'
    config = tmp / "vdirsyncer.conf"
    config.write_text(
        f'[general]\nstatus_path = "{tmp}/status/"\n\n'
        '[pair cal]\na = "cal_local"\nb = "cal_remote"\ncollections = ["agenda"]\n\n'
        f'[storage cal_local]\ntype = "filesystem"\npath = "{tmp}/calendars/"\nfileext = ".ics"\n\n'
        f'[storage cal_remote]\ntype = "caldav"\n{remote}\n'
        '[pair book]\na = "book_local"\nb = "book_remote"\ncollections = ["contacts"]\n\n'
        f'[storage book_local]\ntype = "filesystem"\npath = "{tmp}/contacts/"\nfileext = ".vcf"\n\n'
        f'[storage book_remote]\ntype = "carddav"\n{remote}'
    )
    return config


def _run(tmp: Path, *command: str, stdin: str = "") -> str:
    done = subprocess.run(
        command,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        env={"HOME": str(tmp), "PATH": "/usr/bin:/bin"},
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


async def _listing(client: httpx.AsyncClient, path: str) -> list[str]:
    return hrefs(await client.request("PROPFIND", path, headers={"depth": "1"}))[1:]


async def test_vdirsyncer_two_way_sync_then_khal_and_khard_read_it(
    server: Server, org: TestOrg, tmp_path: Path
) -> None:
    user = await make_user(org)
    config = _config(tmp_path, server, user)
    async with dav_client(server.base_url, user) as client:
        await client.request("PROPFIND", "/calendar/dav/", headers={"depth": "0"})
        await client.put(
            calendar_path(user) + "server.ics",
            content=event(uid="server-side", summary="Comité"),
            headers={"content-type": CALDAV_TYPE},
        )
        await client.put(
            book_path(user) + "server.vcf",
            content=contact(uid="card-server", name="Éloïse Dupré"),
            headers={"content-type": VCARD_TYPE},
        )
        _run(tmp_path, "vdirsyncer", "-c", str(config), "discover", stdin="y\ny\n")
        _run(tmp_path, "vdirsyncer", "-c", str(config), "sync")
        local_calendar, local_book = tmp_path / "calendars" / "agenda", tmp_path / "contacts" / "contacts"
        assert "Comité" in "".join(p.read_text() for p in local_calendar.glob("*.ics"))
        assert "Éloïse" in "".join(p.read_text() for p in local_book.glob("*.vcf"))

        (local_calendar / "local.ics").write_text(event(uid="local-side", summary="Déjeuner"))
        (local_book / "local.vcf").write_text(contact(uid="card-local", name="Marc Petit"))
        await client.put(
            calendar_path(user) + "server.ics",
            content=event(uid="server-side", summary="Comité déplacé"),
            headers={"content-type": CALDAV_TYPE},
        )
        _run(tmp_path, "vdirsyncer", "-c", str(config), "sync")
        calendar_names = await _listing(client, calendar_path(user))
        book_names = await _listing(client, book_path(user))
    assert len(calendar_names) == 2 and len(book_names) == 2
    assert "Comité déplacé" in "".join(p.read_text() for p in local_calendar.glob("*.ics"))

    (tmp_path / "khal.conf").write_text(
        f"[calendars]\n[[agenda]]\npath = {local_calendar}\ntype = calendar\n"
        "[locale]\ntimeformat = %H:%M\ndateformat = %Y-%m-%d\nlongdateformat = %Y-%m-%d\n"
        "datetimeformat = %Y-%m-%d %H:%M\nlongdatetimeformat = %Y-%m-%d %H:%M\n"
        "local_timezone = UTC\ndefault_timezone = UTC\n"
    )
    agenda = _run(tmp_path, "khal", "-c", str(tmp_path / "khal.conf"), "list", "2027-03-01", "2027-03-02")
    assert "Comité déplacé" in agenda and "Déjeuner" in agenda

    (tmp_path / "khard.conf").write_text(
        f"[addressbooks]\n[[contacts]]\npath = {local_book}\n[general]\neditor = true\nmerge_editor = true\n"
    )
    people = _run(tmp_path, "khard", "-c", str(tmp_path / "khard.conf"), "list", "--parsable")
    assert "Éloïse Dupré" in people and "Marc Petit" in people
