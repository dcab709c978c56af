"""What the tokens open: userinfo, the JSON API (bearer), refresh, revocation (RFC 7009)."""

from __future__ import annotations

from typing import Any

import httpx
from authlib.integrations.base_client import OAuthError
from authlib.integrations.httpx_client import AsyncOAuth2Client
from sqlalchemy import select, update

from hexagone.core.db import system_session, utcnow
from hexagone.core.security import token_digest
from hexagone.identity.models import User
from hexagone.identity.oidc import store
from hexagone.identity.oidc.models import OidcAuthorizationCode, OidcToken
from tests.factories import make_org
from tests.oidc.factories_oidc import OidcApp, bearer, make_app, relying_party, sign_in, signed_in


def oauth_client(app: OidcApp) -> AsyncOAuth2Client:
    return AsyncOAuth2Client(app.client_id, app.secret, token_endpoint_auth_method="client_secret_basic")


async def tokens_for(client: httpx.AsyncClient, base_url: str, scope: str) -> tuple[OidcApp, dict[str, Any]]:
    it = await signed_in(client, base_url, scope=scope)
    _request, tokens = await sign_in(client, it.rp, it.app)
    return it.app, dict(tokens)


async def test_userinfo_releases_the_claims_of_the_granted_scopes(client: httpx.AsyncClient, base_url: str) -> None:
    it = await signed_in(client, base_url, scope="openid profile email")
    _request, tokens = await sign_in(client, it.rp, it.app)
    info = await it.rp.userinfo(token=tokens)
    user = it.user
    assert info["sub"] == str(user.id)
    assert info["email"] == user.email and info["email_verified"] is True
    assert info["preferred_username"] == user.email and info["name"] == user.email.split("@")[0]
    assert info["locale"] == "fr"
    assert (info["org_id"], info["org_role"]) == (str(it.app.org_id), "user") and info["org_name"]

    _request, narrow = await sign_in(client, relying_party(base_url, it.app, scope="openid email"), it.app)
    info = await it.rp.userinfo(token=narrow)
    assert set(info) == {"sub", "email", "email_verified"}


async def test_userinfo_needs_the_openid_scope(client: httpx.AsyncClient, base_url: str) -> None:
    _app, tokens = await tokens_for(client, base_url, "api")
    assert "id_token" not in tokens
    response = await client.get("/oidc/userinfo", headers=bearer(tokens["access_token"]))
    assert response.status_code == 403 and response.json()["error"] == "insufficient_scope"


async def test_userinfo_without_a_valid_token_answers_401_with_the_challenge(client: httpx.AsyncClient) -> None:
    for headers in ({}, bearer("garbage"), {"authorization": "Basic Zm9vOmJhcg=="}, bearer("x" * 3000)):
        response = await client.get("/oidc/userinfo", headers=headers)
        assert response.status_code == 401, headers
        assert response.headers["www-authenticate"].lower().startswith("bearer")
        assert "error" in response.json()


async def test_userinfo_accepts_post_without_a_csrf_token(client: httpx.AsyncClient, base_url: str) -> None:
    _app, tokens = await tokens_for(client, base_url, "openid")
    response = await client.post("/oidc/userinfo", headers=bearer(tokens["access_token"]))
    assert response.status_code == 200 and "sub" in response.json()


async def test_refresh_with_offline_access_rotates_and_a_replayed_refresh_token_revokes_the_family(
    client: httpx.AsyncClient, base_url: str
) -> None:
    app, tokens = await tokens_for(client, base_url, "openid offline_access")
    assert tokens["refresh_token"]
    async with oauth_client(app) as oauth:
        fresh = await oauth.refresh_token(base_url + "/oidc/token", refresh_token=tokens["refresh_token"])
        assert fresh["access_token"] != tokens["access_token"]
        assert fresh["refresh_token"] != tokens["refresh_token"]
        assert fresh["scope"] == "openid offline_access"
        assert (await client.get("/oidc/userinfo", headers=bearer(fresh["access_token"]))).status_code == 200
        assert (await client.get("/oidc/userinfo", headers=bearer(tokens["access_token"]))).status_code == 401
        try:
            await oauth.refresh_token(base_url + "/oidc/token", refresh_token=tokens["refresh_token"])
        except OAuthError as exc:
            assert exc.error == "invalid_grant"
        else:
            raise AssertionError("a rotated refresh token was accepted")
    # Someone replayed the old refresh token: everything from that sign-in is revoked.
    assert (await client.get("/oidc/userinfo", headers=bearer(fresh["access_token"]))).status_code == 401


async def test_replayed_refresh_token_revokes_the_family_after_its_code_is_purged(
    client: httpx.AsyncClient, base_url: str
) -> None:
    app, tokens = await tokens_for(client, base_url, "openid offline_access")
    async with oauth_client(app) as oauth:
        fresh = await oauth.refresh_token(base_url + "/oidc/token", refresh_token=tokens["refresh_token"])
    await _two_days_later(tokens["refresh_token"])
    for refresh_token in (tokens["refresh_token"], fresh["refresh_token"]):  # the replay, then the thief's
        refreshed = await client.post(
            "/oidc/token",
            auth=(app.client_id, app.secret or ""),
            data={"grant_type": "refresh_token", "refresh_token": refresh_token},
        )
        assert refreshed.status_code == 400 and refreshed.json()["error"] == "invalid_grant"
    assert (await client.get("/oidc/userinfo", headers=bearer(fresh["access_token"]))).status_code == 401


async def _two_days_later(refresh_token: str) -> None:
    """Age the sign-in of ``refresh_token`` by two days (its code, and the token itself,
    rotated so revoked, dead for longer than the retention), then purge: the code goes,
    the token stays since its family lives on."""
    past = utcnow() - 2 * store.RETENTION
    async with system_session() as db:
        row = await db.scalar(select(OidcToken).where(OidcToken.refresh_digest == token_digest(refresh_token)))
        assert row is not None and row.revoked_at is not None
        await db.execute(
            update(OidcAuthorizationCode).where(OidcAuthorizationCode.id == row.family_id).values(expires_at=past)
        )
        row.access_expires_at = row.revoked_at = past
        await db.commit()
    async with system_session() as db:
        await db.run_sync(store.purge_expired)
        await db.commit()
        assert await db.get(OidcAuthorizationCode, row.family_id) is None
        assert await db.get(OidcToken, row.id) is not None


async def test_purge_deletes_a_family_a_day_after_its_last_token_expires(
    client: httpx.AsyncClient, base_url: str
) -> None:
    _app, tokens = await tokens_for(client, base_url, "openid offline_access")
    past = utcnow() - 2 * store.RETENTION
    async with system_session() as db:
        row = await db.scalar(select(OidcToken).where(OidcToken.access_digest == token_digest(tokens["access_token"])))
        assert row is not None
        row.access_expires_at = row.refresh_expires_at = past
        await db.commit()
        await db.run_sync(store.purge_expired)
        await db.commit()
        assert await db.scalar(select(OidcToken.id).where(OidcToken.family_id == row.family_id)) is None


async def test_refresh_token_is_only_issued_with_offline_access(client: httpx.AsyncClient, base_url: str) -> None:
    _app, tokens = await tokens_for(client, base_url, "openid profile")
    assert "refresh_token" not in tokens


async def test_refresh_token_of_another_client_is_refused(client: httpx.AsyncClient, base_url: str) -> None:
    app, tokens = await tokens_for(client, base_url, "openid offline_access")
    other = await make_app(await make_org())
    response = await client.post(
        "/oidc/token",
        auth=(other.client_id, other.secret or ""),
        data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
    )
    assert response.status_code == 400 and response.json()["error"] == "invalid_grant"
    async with oauth_client(app) as oauth:  # and the rightful client still can
        assert await oauth.refresh_token(base_url + "/oidc/token", refresh_token=tokens["refresh_token"])


async def test_revoked_access_token_no_longer_opens_userinfo_nor_the_api(
    client: httpx.AsyncClient, base_url: str
) -> None:
    app, tokens = await tokens_for(client, base_url, "openid api offline_access")
    assert (await client.get("/api/v1/me", headers=bearer(tokens["access_token"]))).status_code == 200
    async with oauth_client(app) as oauth:
        revoked = await oauth.revoke_token(
            base_url + "/oidc/revoke", tokens["access_token"], token_type_hint="access_token"
        )
        assert revoked.status_code == 200
    for path in ("/oidc/userinfo", "/api/v1/me"):
        response = await client.get(path, headers=bearer(tokens["access_token"]))
        assert response.status_code == 401 and "error" in response.json(), path
    refreshed = await client.post(
        "/oidc/token",
        auth=(app.client_id, app.secret or ""),
        data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
    )
    assert refreshed.status_code == 400  # revoking one token of the pair revoked both


async def test_revocation_of_an_unknown_token_answers_200_and_needs_client_credentials(
    client: httpx.AsyncClient, base_url: str
) -> None:
    app = await make_app(await make_org())
    ok = await client.post("/oidc/revoke", auth=(app.client_id, app.secret or ""), data={"token": "unknown"})
    assert ok.status_code == 200
    assert (await client.post("/oidc/revoke", data={"token": "unknown"})).status_code in (400, 401)
    bad = await client.post("/oidc/revoke", auth=(app.client_id, "wrong"), data={"token": "unknown"})
    assert bad.status_code == 401 and bad.json()["error"] == "invalid_client"
    missing = await client.post("/oidc/revoke", auth=(app.client_id, app.secret or ""), data={})
    assert missing.status_code == 400 and missing.json()["error"] == "invalid_request"


async def test_another_client_cannot_revoke_a_token(client: httpx.AsyncClient, base_url: str) -> None:
    _app, tokens = await tokens_for(client, base_url, "openid api")
    other = await make_app(await make_org())
    response = await client.post(
        "/oidc/revoke", auth=(other.client_id, other.secret or ""), data={"token": tokens["access_token"]}
    )
    assert response.status_code == 400
    assert (await client.get("/api/v1/me", headers=bearer(tokens["access_token"]))).status_code == 200


async def test_bearer_token_with_the_api_scope_reads_api_v1_me(client: httpx.AsyncClient, base_url: str) -> None:
    it = await signed_in(client, base_url, scope="openid api")
    _request, tokens = await sign_in(client, it.rp, it.app)
    async with httpx.AsyncClient(base_url=base_url) as api:  # no cookie: the token alone
        me = await api.get("/api/v1/me", headers=bearer(tokens["access_token"]))
    assert me.status_code == 200
    assert me.json()["email"] == it.user.email and me.json()["organisation"]["id"] == str(it.app.org_id)


async def test_bearer_token_without_the_api_scope_is_refused_by_the_api(
    client: httpx.AsyncClient, base_url: str
) -> None:
    _app, tokens = await tokens_for(client, base_url, "openid profile email")
    async with httpx.AsyncClient(base_url=base_url) as api:
        response = await api.get("/api/v1/me", headers=bearer(tokens["access_token"]))
    assert response.status_code == 401 and response.json()["status"] == 401


async def test_garbage_bearer_token_gets_401_json(base_url: str) -> None:
    async with httpx.AsyncClient(base_url=base_url) as api:
        for token in ("garbage", "x" * 2000, "é"):
            response = await api.get("/api/v1/me", headers={"authorization": f"Bearer {token}".encode()})
            assert response.status_code == 401
            assert response.json() == {"error": "invalid or expired access token", "status": 401}


async def test_tokens_of_a_disabled_user_stop_working(client: httpx.AsyncClient, base_url: str) -> None:
    it = await signed_in(client, base_url)
    _request, tokens = await sign_in(client, it.rp, it.app)
    async with system_session() as db:
        row = await db.get(User, it.user.id)
        assert row is not None
        row.is_active = False
        await db.commit()
    for path in ("/oidc/userinfo", "/api/v1/me"):
        assert (await client.get(path, headers=bearer(tokens["access_token"]))).status_code == 401, path
    refreshed = await client.post(
        "/oidc/token",
        auth=(it.app.client_id, it.app.secret or ""),
        data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
    )
    assert refreshed.status_code == 400
