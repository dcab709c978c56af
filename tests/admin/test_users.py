"""Admin console, people: list and search, create (password shown once or e-mailed link),
CSV import, disable and enable, reset of the second factor, role, password link."""

from __future__ import annotations

import re
import uuid

import httpx

from tests.admin.factories_admin import audited, last_link_token, post, signed_in, user_by_email
from tests.factories import TestUser, get_user_row, login, make_org, make_user, outbox_for, unique

PASSWORD_RE = re.compile(r'id="generated-password" type="text" value="([^"]+)"')


async def test_user_list_shows_members_and_finds_them_by_search(client: httpx.AsyncClient) -> None:
    org, admin = await signed_in(client)
    alice = await make_user(org, email=f"{unique('alice')}@{org.domain}")
    guest = await make_user(org, role="guest")
    page = (await client.get("/admin/users")).text
    assert alice.email in page and admin.email in page
    assert guest.email not in page  # guests have their own page
    found = (await client.get("/admin/users", params={"q": alice.email[:12]})).text
    assert alice.email in found and admin.email not in found


async def test_user_search_ignores_control_characters_and_refuses_nul_and_overlong_terms(
    client: httpx.AsyncClient,
) -> None:
    _org, admin = await signed_in(client)
    response = await client.get("/admin/users", params={"q": admin.email[:8] + "\x01"})
    assert response.status_code == 200 and admin.email in response.text
    nul = await client.get("/admin/users", params={"q": admin.email[:8] + "\x00"})
    assert nul.status_code == 400 and "NUL" in nul.text
    overlong = await client.get("/admin/users", params={"q": "x" * 201})
    assert overlong.status_code == 400 and 'role="alert"' in overlong.text


async def test_create_user_shows_the_generated_password_once_and_it_signs_in(client: httpx.AsyncClient) -> None:
    org, _admin = await signed_in(client)
    email = f"{unique('new')}@{org.domain}"
    response = await post(
        client,
        "/admin/users/new",
        {"email": email, "display_name": "Nouvelle Personne", "role": "user", "delivery": "show"},
    )
    assert response.status_code == 200
    password = PASSWORD_RE.search(response.text)
    assert password, response.text[:2000]
    async with httpx.AsyncClient(base_url=str(client.base_url)) as other:
        row = await user_by_email(email)
        await login(other, TestUser(id=row.id, org_id=org.id, email=email, password=password.group(1), role="user"))
        assert (await other.get("/")).status_code == 200
    assert await outbox_for(email) == []


async def test_create_user_with_link_e_mails_a_working_password_link(client: httpx.AsyncClient) -> None:
    org, _admin = await signed_in(client)
    email = f"{unique('linked')}@{org.domain}"
    response = await post(
        client, "/admin/users/new", {"email": email, "display_name": "Par Lien", "role": "admin", "delivery": "link"}
    )
    assert response.status_code == 303
    row = await user_by_email(email)
    assert response.headers["location"] == f"/admin/users/{row.id}?done=link_sent"
    assert row.role == "admin"
    token = await last_link_token(email)
    assert (await client.get(f"/password/reset/{token}")).status_code == 200


async def test_create_user_outside_the_domains_or_twice_is_refused_with_the_form_kept(
    client: httpx.AsyncClient,
) -> None:
    org, admin = await signed_in(client)
    outside = await post(
        client,
        "/admin/users/new",
        {"email": "someone@elsewhere.test", "display_name": "X", "role": "user", "delivery": "show"},
    )
    assert outside.status_code == 403 and "someone@elsewhere.test" in outside.text
    twice = await post(
        client, "/admin/users/new", {"email": admin.email, "display_name": "X", "role": "user", "delivery": "show"}
    )
    assert twice.status_code == 409
    bad_role = await post(
        client,
        "/admin/users/new",
        {"email": f"r@{org.domain}", "display_name": "X", "role": "guest", "delivery": "show"},
    )
    assert bad_role.status_code == 400
    blank = await post(
        client,
        "/admin/users/new",
        {"email": f"n@{org.domain}", "display_name": "\x00\t ", "role": "user", "delivery": "show"},
    )
    assert blank.status_code == 400


async def test_csv_import_creates_good_lines_and_reports_bad_ones_by_line_number(client: httpx.AsyncClient) -> None:
    org, admin = await signed_in(client)
    good1, good2 = f"{unique('csv')}@{org.domain}", f"{unique('csv')}@{org.domain}"
    data = (
        f"email,name,role\n{good1},Jeanne Martin,user\nnot-an-address,Bad,user\n"
        f"{good2},Paul Admin,admin\n{admin.email},Twice,user\nx@elsewhere.test,Outside,\n"
        f"{unique('r')}@{org.domain},Role,superuser\n"
    )
    response = await post(client, "/admin/users/import", files={"file": ("people.csv", data.encode(), "text/csv")})
    assert response.status_code == 200
    assert good1 in response.text and good2 in response.text
    errors = re.findall(r'<tr><th scope="row">(\d+)</th><td>', response.text)
    assert errors == ["3", "5", "6", "7"]
    assert (await user_by_email(good2)).role == "admin"
    assert "2 comptes créés, 4 lignes refusées" in response.text


async def test_csv_import_of_a_non_csv_or_missing_file_is_refused(client: httpx.AsyncClient) -> None:
    await signed_in(client)
    binary = await post(client, "/admin/users/import", files={"file": ("x.csv", b"\xff\xfe\x00garbage", "text/csv")})
    assert binary.status_code == 400 and 'role="alert"' in binary.text
    headerless = await post(client, "/admin/users/import", files={"file": ("x.csv", b"a,b\n1,2\n", "text/csv")})
    assert headerless.status_code == 400
    missing = await post(client, "/admin/users/import", files={"file": ("", b"", "text/csv")})
    assert missing.status_code == 400


async def test_csv_import_of_a_malformed_or_too_long_file_is_refused_whole(client: httpx.AsyncClient) -> None:
    org, _admin = await signed_in(client)
    huge_field = b"email,name\nx@" + org.domain.encode() + b',"' + b"a" * 200_000 + b'"\n'
    malformed = await post(client, "/admin/users/import", files={"file": ("p.csv", huge_field, "text/csv")})
    assert malformed.status_code == 400 and 'role="alert"' in malformed.text
    many = "email,name\n" + "".join(f"p{n}@{org.domain},P{n}\n" for n in range(1001))
    too_long = await post(client, "/admin/users/import", files={"file": ("p.csv", many.encode(), "text/csv")})
    assert too_long.status_code == 400 and "1000" in too_long.text
    assert "p0@" not in (await client.get("/admin/users")).text


async def test_csv_import_drops_control_characters_and_refuses_names_left_empty(client: httpx.AsyncClient) -> None:
    org, _admin = await signed_in(client)
    cleaned, good = f"{unique('nul')}@{org.domain}", f"{unique('ok')}@{org.domain}"
    data = f"email,name\n{cleaned},Bad\x00Name\n{unique('e')}@{org.domain},\x01\n{good},Fine\n".encode()
    response = await post(client, "/admin/users/import", files={"file": ("p.csv", data, "text/csv")})
    assert response.status_code == 200
    assert re.findall(r'<tr><th scope="row">(\d+)</th><td>', response.text) == ["3"]
    assert (await user_by_email(cleaned)).display_name == "BadName"
    assert (await user_by_email(good)).display_name == "Fine"


async def test_disabling_a_user_closes_their_sessions_and_enabling_restores_access(client: httpx.AsyncClient) -> None:
    org, _admin = await signed_in(client)
    user = await make_user(org)
    async with httpx.AsyncClient(base_url=str(client.base_url)) as theirs:
        await login(theirs, user)
        response = await post(client, f"/admin/users/{user.id}/active", {"active": "0"})
        assert response.status_code == 303
        assert response.headers["location"] == f"/admin/users/{user.id}?done=disabled"
        assert (await theirs.get("/")).status_code == 303
        assert not (await get_user_row(user.id)).is_active
    await post(client, f"/admin/users/{user.id}/active", {"active": "1"})
    assert (await get_user_row(user.id)).is_active


async def test_disable_goes_back_to_the_same_site_next_page_only(client: httpx.AsyncClient) -> None:
    org, _admin = await signed_in(client)
    user = await make_user(org, role="guest")
    back = await post(client, f"/admin/users/{user.id}/active", {"active": "0", "next": "/admin/guests"})
    assert back.headers["location"] == "/admin/guests?done=disabled"
    evil = await post(client, f"/admin/users/{user.id}/active", {"active": "1", "next": "https://evil.test/"})
    assert evil.headers["location"] == f"/admin/users/{user.id}?done=enabled"


async def test_admin_cannot_disable_or_demote_themselves(client: httpx.AsyncClient) -> None:
    _org, admin = await signed_in(client)
    disable = await post(client, f"/admin/users/{admin.id}/active", {"active": "0"})
    assert disable.status_code == 400 and 'role="alert"' in disable.text
    demote = await post(client, f"/admin/users/{admin.id}/role", {"role": "user"})
    assert demote.status_code == 400
    assert (await get_user_row(admin.id)).role == "admin"


async def test_reset_mfa_turns_the_second_factor_off(client: httpx.AsyncClient) -> None:
    org, _admin = await signed_in(client)
    user = await make_user(org, mfa=True)
    response = await post(client, f"/admin/users/{user.id}/mfa-reset")
    assert response.status_code == 303
    row = await get_user_row(user.id)
    assert row.totp_enabled_at is None and row.totp_secret is None


async def test_role_change_makes_a_user_an_admin_and_refuses_guests_and_unknown_roles(
    client: httpx.AsyncClient,
) -> None:
    org, _admin = await signed_in(client)
    user = await make_user(org)
    guest = await make_user(org, role="guest")
    assert (await post(client, f"/admin/users/{user.id}/role", {"role": "admin"})).status_code == 303
    async with httpx.AsyncClient(base_url=str(client.base_url)) as theirs:
        await login(theirs, user)
        assert (await theirs.get("/admin")).status_code == 200
    assert (await post(client, f"/admin/users/{guest.id}/role", {"role": "user"})).status_code == 400
    assert (await post(client, f"/admin/users/{user.id}/role", {"role": "owner"})).status_code == 400
    assert await audited("user.role_changed", user.email)


async def test_password_link_is_e_mailed_to_the_user(client: httpx.AsyncClient) -> None:
    org, _admin = await signed_in(client)
    user = await make_user(org)
    response = await post(client, f"/admin/users/{user.id}/password-link")
    assert response.status_code == 303
    token = await last_link_token(user.email)
    assert (await client.get(f"/password/reset/{token}")).status_code == 200


async def test_user_detail_lists_spaces_and_groups(client: httpx.AsyncClient) -> None:
    _org, admin = await signed_in(client)
    page = await client.get(f"/admin/users/{admin.id}")
    assert page.status_code == 200 and admin.email in page.text


async def test_user_pages_and_actions_for_another_organisations_user_answer_404(client: httpx.AsyncClient) -> None:
    await signed_in(client)
    other = await make_user(await make_org(), mfa=True)
    assert (await client.get(f"/admin/users/{other.id}")).status_code == 404
    assert (await client.get(f"/admin/users/{uuid.uuid4()}")).status_code == 404
    for action, data in (
        ("active", {"active": "0"}),
        ("mfa-reset", {}),
        ("role", {"role": "admin"}),
        ("password-link", {}),
    ):
        assert (await post(client, f"/admin/users/{other.id}/{action}", data)).status_code == 404, action
    row = await get_user_row(other.id)
    assert row.is_active and row.role == "user" and row.totp_enabled_at is not None
    assert await outbox_for(other.email) == []
