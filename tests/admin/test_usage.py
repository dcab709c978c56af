"""Admin console, usage: active spaces (billed), storage, active members, guests (free)."""

from __future__ import annotations

import re

import httpx

from hexagone.core import blobs
from tests.admin.factories_admin import post, signed_in
from tests.factories import login, make_org, make_space, make_user


def _figure(page: str, label: str) -> str:
    found = re.search(re.escape(label) + r"</dt><dd>\s*([^<]*?)\s*</dd>", page)
    assert found, label
    return found.group(1)


async def test_usage_counts_active_spaces_members_and_free_guests(client: httpx.AsyncClient) -> None:
    org, admin = await signed_in(client)
    idle = await make_user(org)
    guest = await make_user(org, role="guest")
    await make_space(admin, members={idle: "member", guest: "reader"})
    archived = await make_space(admin)
    await post(client, f"/admin/spaces/{archived.id}/archive", {"archived": "1"})
    disabled = await make_user(org)
    await post(client, f"/admin/users/{disabled.id}/active", {"active": "0"})
    page = (await client.get("/admin/usage")).text
    assert _figure(page, "Espaces actifs (facturés)") == "1"
    assert _figure(page, "Membres actifs ces 30 derniers jours") == "1 / 2"  # the admin signed in; idle did not
    assert _figure(page, "Invités (gratuits)") == "1"
    assert _figure(page, "Stockage utilisé") == "Aucun stockage utilisé pour l'instant"
    assert "Les invités sont toujours gratuits" in page


async def test_usage_counts_the_organisations_stored_blobs(client: httpx.AsyncClient) -> None:
    org, _admin = await signed_in(client)
    await blobs.get_store().put(b"x" * 2048, key=f"org/{org.id}/drive/file-1")
    page = (await client.get("/admin")).text
    assert _figure(page, "Stockage utilisé") == "2.0 kB"


async def test_usage_ignores_other_organisations(client: httpx.AsyncClient) -> None:
    _org, _admin = await signed_in(client)
    other = await make_org()
    other_admin = await make_user(other, role="admin")
    await make_space(other_admin)
    await make_user(other, role="guest")
    await blobs.get_store().put(b"y" * 4096, key=f"org/{other.id}/drive/big")
    async with httpx.AsyncClient(base_url=str(client.base_url)) as theirs:
        await login(theirs, other_admin)
    page = (await client.get("/admin/usage")).text
    assert _figure(page, "Espaces actifs (facturés)") == "0"
    assert _figure(page, "Invités (gratuits)") == "0"
    assert _figure(page, "Membres actifs ces 30 derniers jours") == "1 / 1"
    assert "Aucun stockage" in page
