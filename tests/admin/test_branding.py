"""Admin console, branding: name, contrast-checked colour, PNG/JPEG logo with preview and
removal."""

from __future__ import annotations

import base64

import httpx

from tests.admin.factories_admin import post, signed_in
from tests.factories import login, make_org, make_user

# A 1×1 transparent PNG.
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
)


async def test_brand_name_and_dark_colour_are_saved_and_served(client: httpx.AsyncClient) -> None:
    await signed_in(client)
    response = await post(
        client,
        "/admin/branding",
        {"name": "Mairie de Test", "primary": "#1F3A5F"},
        files={"logo": ("", b"", "application/octet-stream")},
    )
    assert response.headers["location"] == "/admin/branding?done=saved"
    assert "--brand: #1f3a5f" in (await client.get("/branding.css")).text
    assert "Mairie de Test" in (await client.get("/")).text


async def test_light_colour_is_refused_with_the_contrast_explained(client: httpx.AsyncClient) -> None:
    await signed_in(client)
    response = await post(client, "/admin/branding", {"name": "Org", "primary": "#ffff00"})
    assert response.status_code == 400
    assert 'role="alert"' in response.text and "4.5:1" in response.text
    assert 'value="#ffff00"' in response.text  # what was typed is kept
    assert "--brand: #ffff00" not in (await client.get("/branding.css")).text
    malformed = await post(client, "/admin/branding", {"name": "Org", "primary": "blue"})
    assert malformed.status_code == 400
    nameless = await post(client, "/admin/branding", {"name": "", "primary": "#000091"})
    assert nameless.status_code == 400


async def test_logo_upload_is_previewed_served_and_removable(client: httpx.AsyncClient) -> None:
    await signed_in(client)
    response = await post(
        client,
        "/admin/branding",
        {"name": "Org Logo", "primary": "#000091"},
        files={"logo": ("logo.png", PNG, "image/png")},
    )
    assert response.status_code == 303
    logo = await client.get("/branding/logo")
    assert logo.status_code == 200 and logo.headers["content-type"] == "image/png" and logo.content == PNG
    page = (await client.get("/admin/branding")).text
    assert 'src="/branding/logo"' in page
    removed = await post(client, "/admin/branding/logo/remove")
    assert removed.status_code == 303
    assert (await client.get("/branding/logo")).status_code == 404


async def test_non_image_logo_is_refused(client: httpx.AsyncClient) -> None:
    await signed_in(client)
    for name, data, ctype in (
        ("evil.svg", b"<svg onload='alert(1)'/>", "image/svg+xml"),
        ("fake.png", b"GIF89a not a png", "image/png"),
    ):
        response = await post(
            client, "/admin/branding", {"name": "Org", "primary": "#000091"}, files={"logo": (name, data, ctype)}
        )
        assert response.status_code == 400, name
        assert 'role="alert"' in response.text
    assert (await client.get("/branding/logo")).status_code == 404


async def test_branding_of_one_organisation_does_not_change_another(client: httpx.AsyncClient) -> None:
    await signed_in(client)
    await post(client, "/admin/branding", {"name": "Changed", "primary": "#3a0ca3"})
    other_org = await make_org()
    other = await make_user(other_org)
    async with httpx.AsyncClient(base_url=str(client.base_url)) as theirs:
        await login(theirs, other)
        assert "#3a0ca3" not in (await theirs.get("/branding.css")).text
        assert other_org.name in (await theirs.get("/")).text
