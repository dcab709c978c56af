"""The drive's admin page: the storage the organisation uses and each drive against its
quota; the organisation's settings typed with units; a drive's own quota, enforced on the
next upload. Nonsense and another organisation's drives are refused, and nothing changes."""

from __future__ import annotations

import html

import httpx
import pytest
from sqlalchemy import select

from hexagone.core.db import org_session, system_session
from hexagone.core.exceptions import InsufficientStorage
from hexagone.core.models import AuditEntry
from hexagone.drive import service
from tests.admin.factories_admin import audited, post
from tests.drive.admin.factories_driveadmin import drive_admin, member_with_drive
from tests.drive.factories import put

pytestmark = pytest.mark.usefixtures("migrated")

PAGE = "/drive/admin"
MIB = 1024**2
GIB = 1024**3
SETTINGS = {
    "quota_bytes": "",
    "user_quota_bytes": "",
    "space_quota_bytes": "",
    "keep_versions": "25",
    "keep_version_days": "365",
    "trash_days": "30",
}


def quota_path(drive_id: object) -> str:
    return f"/drive/admin/drives/{drive_id}/quota"


async def settings_of(org_id: object) -> service.Settings:
    async with org_session(org_id) as db:  # type: ignore[arg-type]
        return await service.settings(db)


async def audited_settings(org_id: object, changed: dict[str, str]) -> bool:
    """Whether the organisation's audit log holds a change of its drive settings with ``changed``."""
    async with system_session() as db:
        rows = await db.scalars(
            select(AuditEntry).where(AuditEntry.org_id == org_id, AuditEntry.action == "drive.settings_changed")
        )
        return any(changed.items() <= entry.details.items() for entry in rows)


async def drive_quota(member: object, drive_id: object) -> int | None:
    async with org_session(member.org_id) as db:  # type: ignore[attr-defined]
        return (await service.usage(db, member, drive_id)).quota_bytes  # type: ignore[arg-type]


async def test_storage_page_shows_the_organisation_usage_and_each_drive_against_its_quota(
    client: httpx.AsyncClient,
) -> None:
    org, _admin = await drive_admin(client)
    member, drive = await member_with_drive(org)
    await put(member, drive.root_id, "notes.txt", b"x" * 3000)
    empty = (await client.get(PAGE)).text
    assert "2,9 Ko, sans limite" in empty and html.escape(drive.name) in empty and "Personnel" in empty

    limited = {**SETTINGS, "quota_bytes": "1 Go", "user_quota_bytes": "10 Ko"}
    assert (await post(client, PAGE, limited)).status_code == 303
    page = (await client.get(PAGE)).text
    assert "2,9 Ko sur 1 Go" in page  # the organisation
    assert f'max="{10 * 1024}" value="3000"' in page and "2,9 Ko sur 10 Ko" in page  # the drive, by default


async def test_settings_typed_with_units_are_saved_and_shown_back_exactly(client: httpx.AsyncClient) -> None:
    org, _admin = await drive_admin(client)
    form = {
        "quota_bytes": "2 TB",
        "user_quota_bytes": "1,5 Go",
        "space_quota_bytes": "500MiB",
        "keep_versions": "10",
        "keep_version_days": "90",
        "trash_days": " 7 ",
    }
    response = await post(client, PAGE, form)
    assert response.status_code == 303 and response.headers["location"].endswith("done=drive_settings_saved")
    saved = await settings_of(org.id)
    assert await audited_settings(org.id, {"trash_days": "30 → 7", "keep_versions": "25 → 10"})
    assert saved == service.Settings(2 * 1024**4, 1536 * MIB, 500 * MIB, 10, 90, 7)
    page = (await client.get(response.headers["location"])).text
    assert "Les réglages des fichiers sont enregistrés." in page
    for shown in ('value="2 To"', 'value="1536 Mo"', 'value="500 Mo"', 'value="10"', 'value="90"', 'value="7"'):
        assert shown in page, shown
    # Emptied, a quota is no limit again.
    assert (await post(client, PAGE, {**form, "quota_bytes": ""})).status_code == 303
    assert (await settings_of(org.id)).quota_bytes is None


@pytest.mark.parametrize(
    ("name", "typed", "message"),
    [
        ("quota_bytes", "-1 GB", "n’est pas une taille"),
        ("user_quota_bytes", "beaucoup", "n’est pas une taille"),
        ("user_quota_bytes", "12", "Précisez l’unité"),
        ("space_quota_bytes", "99999 PB", "au plus 1 Po"),
        ("keep_versions", "abc", "Versions conservées par fichier : saisissez un nombre entier"),
        ("keep_versions", "-3", "Versions conservées par fichier : saisissez un nombre entier"),
        ("keep_versions", "0", "Un fichier garde"),
        ("trash_days", "99999999999999999999", "Jours dans la corbeille ne peut pas dépasser 36500"),
        ("keep_version_days", "", "Jours de conservation d’une version : saisissez un nombre entier"),
    ],
)
async def test_settings_with_bad_input_are_refused_with_the_message_and_nothing_changes(
    client: httpx.AsyncClient, name: str, typed: str, message: str
) -> None:
    org, _admin = await drive_admin(client)
    before = await settings_of(org.id)
    other = "space_quota_bytes" if name == "quota_bytes" else "quota_bytes"
    response = await post(client, PAGE, {**SETTINGS, other: "3 Go", name: typed})
    assert response.status_code == 400, response.status_code
    assert message in html.unescape(response.text), html.unescape(response.text)[:3000]
    assert 'role="alert"' in response.text and f'value="{html.escape(typed)}"' in response.text  # as typed
    assert 'value="3 Go"' in response.text  # the other fields as typed too
    assert await settings_of(org.id) == before


async def test_quota_of_a_drive_set_then_an_upload_beyond_it_is_refused(client: httpx.AsyncClient) -> None:
    org, _admin = await drive_admin(client)
    member, drive = await member_with_drive(org)
    response = await post(client, quota_path(drive.id), {"quota": "1 Ko"})
    assert response.status_code == 303 and response.headers["location"].endswith("done=drive_quota_saved")
    assert await drive_quota(member, drive.id) == 1024
    assert await audited("drive.quota_changed", drive.name)
    page = (await client.get(response.headers["location"])).text
    assert "Le quota de cet espace de stockage est enregistré." in page and 'value="1 Ko"' in page
    await put(member, drive.root_id, "fits.txt", b"x" * 1000)
    with pytest.raises(InsufficientStorage):
        await put(member, drive.root_id, "too-big.txt", b"x" * 100)
    # Emptied, the drive follows the organisation's default again (here: no limit).
    assert (await post(client, quota_path(drive.id), {"quota": ""})).status_code == 303
    assert await drive_quota(member, drive.id) is None
    await put(member, drive.root_id, "fits-now.txt", b"x" * 100)


@pytest.mark.parametrize("typed", ["-5 MB", "cent", "3", "2000 PB", "1" * 41])
async def test_quota_of_a_drive_with_bad_input_is_refused_and_nothing_changes(
    client: httpx.AsyncClient, typed: str
) -> None:
    org, _admin = await drive_admin(client)
    member, drive = await member_with_drive(org)
    response = await post(client, quota_path(drive.id), {"quota": typed})
    assert response.status_code == 400
    assert 'role="alert"' in response.text
    if len(typed) <= 40:
        assert f'value="{typed}"' in response.text  # that drive's field as typed
    assert await drive_quota(member, drive.id) is None


async def test_quota_of_a_drive_of_another_organisation_is_not_found(client: httpx.AsyncClient) -> None:
    await drive_admin(client)
    async with httpx.AsyncClient(base_url=str(client.base_url), follow_redirects=False, timeout=30) as other:
        other_org, _other_admin = await drive_admin(other)
    member, drive = await member_with_drive(other_org)
    response = await post(client, quota_path(drive.id), {"quota": "1 Ko"})
    assert response.status_code == 404
    assert await drive_quota(member, drive.id) is None
    assert drive.name not in (await client.get(PAGE)).text
