"""RP-initiated logout: the application ends the user's Hexagone session too."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import httpx

from hexagone.core.auth import SESSION_COOKIE
from tests.factories import login, make_org, make_user
from tests.oidc.factories_oidc import LOGOUT_URI, OidcApp, make_app, relying_party, sign_in, signed_in

HIDDEN_FIELD = re.compile(r'<input type="hidden" name="([a-z_]+)" value="([^"]*)">')


async def signed_in_with_id_token(client: httpx.AsyncClient, base_url: str) -> tuple[OidcApp, str]:
    it = await signed_in(client, base_url)
    _request, tokens = await sign_in(client, it.rp, it.app)
    return it.app, tokens["id_token"]


async def is_signed_in(client: httpx.AsyncClient) -> bool:
    return (await client.get("/")).status_code == 200


async def test_logout_with_id_token_hint_ends_the_session_and_returns_with_the_state(
    client: httpx.AsyncClient, base_url: str
) -> None:
    app, id_token = await signed_in_with_id_token(client, base_url)
    session = client.cookies[SESSION_COOKIE]
    logout = await relying_party(base_url, app).create_logout_url(
        post_logout_redirect_uri=LOGOUT_URI, id_token_hint=id_token, state="st-42"
    )
    response = await client.get(logout["url"])
    assert response.status_code == 302
    target = urlsplit(response.headers["location"])
    assert f"{target.scheme}://{target.netloc}{target.path}" == LOGOUT_URI
    assert parse_qs(target.query) == {"state": ["st-42"]}
    assert not await is_signed_in(client)
    client.cookies.set(SESSION_COOKIE, session)  # the session itself is over, not just the cookie
    assert not await is_signed_in(client)


async def test_logout_to_an_unregistered_address_signs_out_without_redirecting(
    client: httpx.AsyncClient, base_url: str
) -> None:
    _app, id_token = await signed_in_with_id_token(client, base_url)
    response = await client.get(
        "/oidc/logout", params={"id_token_hint": id_token, "post_logout_redirect_uri": "https://evil.test/"}
    )
    assert response.status_code == 200 and "location" not in response.headers
    assert "text/html" in response.headers["content-type"]
    assert not await is_signed_in(client)


async def test_logout_without_a_hint_asks_for_confirmation_first(client: httpx.AsyncClient, base_url: str) -> None:
    app, _id_token = await signed_in_with_id_token(client, base_url)
    page = await client.get(
        "/oidc/logout", params={"client_id": app.client_id, "post_logout_redirect_uri": LOGOUT_URI, "state": "x"}
    )
    assert page.status_code == 200 and 'action="/oidc/logout"' in page.text
    assert await is_signed_in(client)
    assert (await client.head("/oidc/logout", params={"client_id": app.client_id})).status_code == 200
    assert await is_signed_in(client)  # a link preview signs no one out either
    fields = dict(HIDDEN_FIELD.findall(page.text))
    assert fields["client_id"] == app.client_id and "csrf_token" in fields
    assert (
        await client.post("/oidc/logout", data={k: v for k, v in fields.items() if k != "csrf_token"})
    ).status_code == 403  # the confirmation is a form like any other
    confirmed = await client.post("/oidc/logout", data=fields)
    assert confirmed.status_code == 200 and "location" not in confirmed.headers  # no hint: no redirection
    assert not await is_signed_in(client)


async def test_logout_with_the_id_token_of_another_user_asks_for_confirmation(
    client: httpx.AsyncClient, base_url: str
) -> None:
    _app, someone_elses = await signed_in_with_id_token(client, base_url)
    client.cookies.clear()
    await login(client, await make_user(await make_org()))
    page = await client.get("/oidc/logout", params={"id_token_hint": someone_elses})
    assert page.status_code == 200 and 'action="/oidc/logout"' in page.text
    assert await is_signed_in(client)


async def test_logout_with_a_forged_hint_or_a_mismatched_client_is_an_error_page(
    client: httpx.AsyncClient, base_url: str
) -> None:
    _app, id_token = await signed_in_with_id_token(client, base_url)
    other = await make_app(await make_org())
    header, payload, _signature = id_token.split(".")
    for params in (
        {"id_token_hint": "garbage"},
        {"id_token_hint": f"{header}.{payload}.AAAA"},
        {"id_token_hint": id_token, "client_id": other.client_id},
    ):
        response = await client.get("/oidc/logout", params=params)
        assert response.status_code == 400, params
        assert "text/html" in response.headers["content-type"]
    assert await is_signed_in(client)


async def test_logout_when_already_signed_out_still_returns_to_the_application(
    client: httpx.AsyncClient, base_url: str
) -> None:
    _app, id_token = await signed_in_with_id_token(client, base_url)
    client.cookies.clear()
    response = await client.get(
        "/oidc/logout", params={"id_token_hint": id_token, "post_logout_redirect_uri": LOGOUT_URI}
    )
    assert response.status_code == 302 and response.headers["location"] == LOGOUT_URI
    signed_out = await client.get("/oidc/logout")
    assert signed_out.status_code == 200 and 'href="/login"' in signed_out.text
