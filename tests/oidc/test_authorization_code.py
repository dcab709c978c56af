"""The authorization code flow end to end: authlib's relying-party client against the live
server, the test's httpx client as the user's browser going through the real login form."""

from __future__ import annotations

import html
import re
import time
from urllib.parse import parse_qs, quote, urlsplit

import httpx
from authlib.integrations.base_client import OAuthError
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from joserfc import jwt
from joserfc.jwk import KeySet

from hexagone.core.auth import SESSION_COOKIE
from hexagone.identity.models import OrgRole
from tests.factories import csrf_token, login, make_org, make_user
from tests.oidc.factories_oidc import (
    REDIRECT_URI,
    authorization_code,
    make_app,
    redirect_params,
    relying_party,
    sign_in,
    signed_in,
)


async def test_code_flow_through_the_login_form_returns_an_id_token_signed_by_the_jwks(
    client: httpx.AsyncClient, base_url: str
) -> None:
    org = await make_org()
    user = await make_user(org)
    app = await make_app(org)
    rp = relying_party(base_url, app)
    request = await rp.create_authorization_url(app.redirect_uri)

    # Not signed in: the provider sends the browser to the login form, and back.
    first = await client.get(request["url"])
    assert first.status_code == 303
    next_url = parse_qs(urlsplit(first.headers["location"]).query)["next"][0]
    assert first.headers["location"].startswith("/login?next=") and next_url.startswith("/oidc/authorize?")
    token = await csrf_token(client, first.headers["location"])
    signed_in = await client.post(
        "/login", data={"email": user.email, "password": user.password, "csrf_token": token, "next": next_url}
    )
    assert signed_in.status_code == 303 and signed_in.headers["location"] == next_url
    back = redirect_params(await client.get(next_url))
    assert back["state"] == request["state"]

    tokens = await rp.fetch_access_token(
        redirect_uri=app.redirect_uri, code=back["code"], code_verifier=request["code_verifier"]
    )
    assert tokens["token_type"].lower() == "bearer" and tokens["expires_in"] == 3600
    assert set(tokens["scope"].split()) == {"openid", "profile", "email", "offline_access", "api"}
    claims = await rp.parse_id_token(tokens, nonce=request["nonce"])  # signature, iss, aud, nonce, at_hash
    assert claims["sub"] == str(user.id)
    assert claims["email"] == user.email and claims["email_verified"] is True
    assert claims["org_id"] == str(org.id) and claims["org_name"] == org.name
    assert claims["amr"] == ["pwd"]
    assert abs(claims["auth_time"] - time.time()) < 120

    # The same check by hand: the key named in the header is in the published JWKS.
    jwks = (await client.get("/oidc/jwks")).json()
    decoded = jwt.decode(tokens["id_token"], KeySet.import_key_set(jwks), algorithms=["RS256"])
    assert decoded.header["kid"] in {k["kid"] for k in jwks["keys"]}
    jwt.JWTClaimsRegistry(
        iss={"essential": True, "value": base_url},
        aud={"essential": True, "value": app.client_id},
        nonce={"essential": True, "value": request["nonce"]},
    ).validate(decoded.claims)


async def test_id_token_with_another_nonce_is_rejected_by_the_client(client: httpx.AsyncClient, base_url: str) -> None:
    it = await signed_in(client, base_url)
    _request, tokens = await sign_in(client, it.rp, it.app)
    try:
        await it.rp.parse_id_token(tokens, nonce="not-the-nonce-that-was-sent")
    except Exception as exc:  # joserfc's InvalidClaimError
        assert "nonce" in str(exc)
    else:
        raise AssertionError("a wrong nonce was accepted")


async def test_code_flow_with_mfa_goes_through_the_second_factor_and_says_so_in_amr(
    client: httpx.AsyncClient, base_url: str
) -> None:
    org = await make_org()
    user = await make_user(org, mfa=True)
    app = await make_app(org)
    rp = relying_party(base_url, app)
    request = await rp.create_authorization_url(app.redirect_uri)
    first = await client.get(request["url"])
    next_url = parse_qs(urlsplit(first.headers["location"]).query)["next"][0]
    token = await csrf_token(client)
    step = await client.post(
        "/login", data={"email": user.email, "password": user.password, "csrf_token": token, "next": next_url}
    )
    assert step.headers["location"] == f"/login/mfa?next={quote(next_url)}"
    token = await csrf_token(client, step.headers["location"])
    done = await client.post("/login/mfa", data={"code": user.totp(), "csrf_token": token, "next": next_url})
    assert done.headers["location"] == next_url
    back = redirect_params(await client.get(next_url))
    tokens = await rp.fetch_access_token(
        redirect_uri=app.redirect_uri, code=back["code"], code_verifier=request["code_verifier"]
    )
    claims = await rp.parse_id_token(tokens, nonce=request["nonce"])
    assert claims["amr"] == ["pwd", "otp", "mfa"]


async def test_session_still_owing_its_second_factor_gets_no_code(client: httpx.AsyncClient, base_url: str) -> None:
    org = await make_org()
    user = await make_user(org, mfa=True)
    app = await make_app(org)
    await login(client, user, second_factor=False)
    request = await relying_party(base_url, app).create_authorization_url(app.redirect_uri)
    response = await client.get(request["url"])
    assert response.status_code == 303 and response.headers["location"].startswith("/login/mfa")


async def test_confidential_client_may_authenticate_with_client_secret_post(
    client: httpx.AsyncClient, base_url: str
) -> None:
    it = await signed_in(client, base_url)
    rp = relying_party(base_url, it.app, auth_method="client_secret_post")
    _request, tokens = await sign_in(client, rp, it.app)
    assert tokens["access_token"]


async def test_public_client_signs_in_with_pkce_and_no_secret(client: httpx.AsyncClient, base_url: str) -> None:
    it = await signed_in(client, base_url, public=True)
    assert it.app.secret is None
    request, tokens = await sign_in(client, it.rp, it.app)
    assert (await it.rp.parse_id_token(tokens, nonce=request["nonce"]))["sub"] == str(it.user.id)


async def test_public_client_without_pkce_gets_an_error_back(client: httpx.AsyncClient, base_url: str) -> None:
    it = await signed_in(client, base_url, public=True)
    response = await client.get(
        "/oidc/authorize",
        params={
            "response_type": "code",
            "client_id": it.app.client_id,
            "redirect_uri": REDIRECT_URI,
            "scope": "openid",
            "state": "s1",
        },
    )
    back = redirect_params(response)
    assert back["error"] == "invalid_request" and back["state"] == "s1"
    assert "PKCE" in back["error_description"]


async def test_plain_pkce_method_is_refused(client: httpx.AsyncClient, base_url: str) -> None:
    it = await signed_in(client, base_url)
    response = await client.get(
        "/oidc/authorize",
        params={
            "response_type": "code",
            "client_id": it.app.client_id,
            "redirect_uri": REDIRECT_URI,
            "scope": "openid",
            "code_challenge": "a" * 43,
            "code_challenge_method": "plain",
        },
    )
    assert redirect_params(response)["error"] == "invalid_request"


async def test_pkce_verifier_that_does_not_match_is_refused(client: httpx.AsyncClient, base_url: str) -> None:
    it = await signed_in(client, base_url)
    _request, code = await authorization_code(client, it.rp, it.app)
    try:
        await it.rp.fetch_access_token(redirect_uri=it.app.redirect_uri, code=code, code_verifier="b" * 50)
    except OAuthError as exc:
        assert exc.error == "invalid_grant"
    else:
        raise AssertionError("a wrong code_verifier was accepted")


async def test_token_request_without_the_verifier_is_refused_when_a_challenge_was_sent(
    client: httpx.AsyncClient, base_url: str
) -> None:
    it = await signed_in(client, base_url)
    _request, code = await authorization_code(client, it.rp, it.app)
    response = await client.post(
        "/oidc/token",
        auth=(it.app.client_id, it.app.secret or ""),
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT_URI,
        },
    )
    assert response.status_code == 400 and response.json()["error"] == "invalid_request"


async def test_code_used_twice_is_refused_and_revokes_what_the_first_use_obtained(
    client: httpx.AsyncClient, base_url: str
) -> None:
    it = await signed_in(client, base_url)
    request, code = await authorization_code(client, it.rp, it.app)
    tokens = await it.rp.fetch_access_token(
        redirect_uri=it.app.redirect_uri, code=code, code_verifier=request["code_verifier"]
    )
    assert (
        await client.get("/oidc/userinfo", headers={"authorization": f"Bearer {tokens['access_token']}"})
    ).status_code == 200
    try:
        await it.rp.fetch_access_token(
            redirect_uri=it.app.redirect_uri, code=code, code_verifier=request["code_verifier"]
        )
    except OAuthError as exc:
        assert exc.error == "invalid_grant"
    else:
        raise AssertionError("a code was accepted twice")
    replayed = await client.get("/oidc/userinfo", headers={"authorization": f"Bearer {tokens['access_token']}"})
    assert replayed.status_code == 401 and replayed.json()["error"] == "invalid_token"


async def test_redirect_uri_not_registered_is_refused_on_a_page_not_redirected(
    client: httpx.AsyncClient, base_url: str
) -> None:
    it = await signed_in(client, base_url)
    for evil in ("https://evil.test/callback", REDIRECT_URI + "/more", REDIRECT_URI.replace("https", "http")):
        response = await client.get(
            "/oidc/authorize",
            params={
                "response_type": "code",
                "client_id": it.app.client_id,
                "redirect_uri": evil,
                "scope": "openid",
                "code_challenge": create_s256_code_challenge("v" * 43),
                "code_challenge_method": "S256",
            },
        )
        assert response.status_code == 400, evil
        assert "location" not in response.headers
        assert "text/html" in response.headers["content-type"] and 'class="alert alert-error"' in response.text


async def test_token_request_with_another_redirect_uri_is_refused(client: httpx.AsyncClient, base_url: str) -> None:
    it = await signed_in(client, base_url)
    request, code = await authorization_code(client, it.rp, it.app)
    try:
        await it.rp.fetch_access_token(
            redirect_uri="https://app.example.test/other", code=code, code_verifier=request["code_verifier"]
        )
    except OAuthError as exc:
        assert exc.error == "invalid_grant"
    else:
        raise AssertionError("the code was exchanged for another redirect URI")


async def test_unknown_client_and_missing_parameters_get_an_error_page(client: httpx.AsyncClient) -> None:
    for params in (
        {"response_type": "code", "client_id": "nope", "redirect_uri": REDIRECT_URI, "scope": "openid"},
        {"response_type": "code", "scope": "openid"},
        {"response_type": "token", "client_id": "x" * 5000},
    ):
        response = await client.get("/oidc/authorize", params=params)
        assert response.status_code == 400, params
        assert "text/html" in response.headers["content-type"]


async def test_wrong_client_secret_is_refused_with_401(client: httpx.AsyncClient, base_url: str) -> None:
    it = await signed_in(client, base_url)
    request, code = await authorization_code(client, it.rp, it.app)
    response = await client.post(
        "/oidc/token",
        auth=(it.app.client_id, "wrong-secret"),
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT_URI,
            "code_verifier": request["code_verifier"],
        },
    )
    assert response.status_code == 401 and response.json()["error"] == "invalid_client"


async def test_token_endpoint_rejects_bad_input_with_json_errors(client: httpx.AsyncClient) -> None:
    cases = [
        ({}, 400),
        ({"grant_type": "password", "username": "a", "password": "b"}, 400),
        ({"grant_type": "authorization_code", "code": "x", "client_id": "nope"}, 400),
        ({"grant_type": "refresh_token", "refresh_token": "x", "client_id": "nope"}, 400),
    ]
    for data, status in cases:
        response = await client.post("/oidc/token", data=data)
        assert response.status_code in (status, 401), data
        assert "error" in response.json()
    assert (
        await client.post("/oidc/token", content=b"\x00\xff", headers={"content-type": "application/json"})
    ).status_code == 400
    assert (await client.get("/oidc/token")).status_code == 405


async def test_user_of_another_organisation_is_refused(client: httpx.AsyncClient, base_url: str) -> None:
    org_a, org_b = await make_org(), await make_org()
    app_of_a = await make_app(org_a)
    user_of_b = await make_user(org_b)
    rp = relying_party(base_url, app_of_a)
    await login(client, user_of_b)
    request = await rp.create_authorization_url(app_of_a.redirect_uri)
    response = await client.get(request["url"])
    assert response.status_code == 403 and "location" not in response.headers
    assert "autre organisation" in response.text  # French, the organisation's default language


async def test_guest_of_the_organisation_is_refused(client: httpx.AsyncClient, base_url: str) -> None:
    org = await make_org()
    guest = await make_user(org, role=OrgRole.GUEST)
    app = await make_app(org)
    rp = relying_party(base_url, app)
    await login(client, guest)
    request = await rp.create_authorization_url(app.redirect_uri)
    assert (await client.get(request["url"])).status_code == 403


async def test_prompt_none_without_a_session_answers_login_required(client: httpx.AsyncClient, base_url: str) -> None:
    org = await make_org()
    app = await make_app(org)
    rp = relying_party(base_url, app)
    request = await rp.create_authorization_url(app.redirect_uri, prompt="none")
    back = redirect_params(await client.get(request["url"]))
    assert back["error"] == "login_required" and back["state"] == request["state"]


async def test_prompt_login_link_asks_first_and_leaves_the_session_valid(
    client: httpx.AsyncClient, base_url: str
) -> None:
    it = await signed_in(client, base_url)
    request = await it.rp.create_authorization_url(it.app.redirect_uri, prompt="login")
    assert (await client.head(request["url"])).status_code == 200  # a link preview
    response = await client.get(request["url"])  # a top-level GET, as a link or a redirect makes it
    assert response.status_code == 200 and 'action="/oidc/authorize"' in response.text
    assert SESSION_COOKIE not in response.headers.get("set-cookie", "")
    assert (await client.get("/")).status_code == 200  # still signed in


async def test_max_age_link_asks_first_and_leaves_the_session_valid(client: httpx.AsyncClient, base_url: str) -> None:
    it = await signed_in(client, base_url)
    request = await it.rp.create_authorization_url(it.app.redirect_uri, max_age="0")  # any sign-in is older
    assert (await client.get(request["url"])).status_code == 200
    assert (await client.get("/")).status_code == 200


async def test_prompt_login_confirmed_ends_the_session_and_asks_for_the_password_again(
    client: httpx.AsyncClient, base_url: str
) -> None:
    it = await signed_in(client, base_url)
    old_session = client.cookies[SESSION_COOKIE]
    request = await it.rp.create_authorization_url(it.app.redirect_uri, prompt="login")
    page = await client.get(request["url"])
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', html.unescape(page.text)))
    response = await client.post("/oidc/authorize", data=fields)
    assert response.status_code == 303 and response.headers["location"].startswith("/login?next=")
    next_url = parse_qs(urlsplit(response.headers["location"]).query)["next"][0]
    assert next_url.startswith("/oidc/authorize?") and "prompt=" not in next_url and "csrf_token" not in next_url
    client.cookies.clear()
    client.cookies.set(SESSION_COOKIE, old_session)
    assert (await client.get("/")).status_code == 303  # the old session is over
    client.cookies.clear()
    await login(client, it.user)
    assert redirect_params(await client.get(next_url))["state"] == request["state"]


async def test_prompt_login_post_without_csrf_token_is_refused_and_ends_nothing(
    client: httpx.AsyncClient, base_url: str
) -> None:
    it = await signed_in(client, base_url)
    request = await it.rp.create_authorization_url(it.app.redirect_uri, prompt="login")
    query = dict(parse_qs(urlsplit(request["url"]).query))
    response = await client.post("/oidc/authorize", data={k: v[0] for k, v in query.items()})
    assert response.status_code == 403
    assert (await client.get("/")).status_code == 200


async def test_scopes_the_client_may_not_have_are_left_out(client: httpx.AsyncClient, base_url: str) -> None:
    it = await signed_in(client, base_url, scopes=("openid", "email"))
    _request, tokens = await sign_in(client, it.rp, it.app)
    assert tokens["scope"] == "openid email"
    assert "refresh_token" not in tokens
