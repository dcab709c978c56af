"""Registered applications, and the relying party's side of the flow: authlib's own
client (its Starlette integration, as an application built on Starlette would use it),
with the test's httpx client playing the user's browser."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
from authlib.integrations.starlette_client import OAuth, StarletteOAuth2App

from hexagone.core.db import system_session
from hexagone.identity.oidc import service
from hexagone.identity.oidc.claims import SCOPES
from tests.factories import TestOrg, TestUser, login, make_org, make_user, unique

REDIRECT_URI = "https://app.example.test/callback"  # never fetched: tests read the redirect
LOGOUT_URI = "https://app.example.test/signed-out"
ALL_SCOPES = " ".join(SCOPES)


@dataclass
class OidcApp:
    id: uuid.UUID
    org_id: uuid.UUID
    client_id: str
    secret: str | None
    redirect_uri: str = REDIRECT_URI


async def make_app(
    org: TestOrg, *, public: bool = False, scopes: tuple[str, ...] = tuple(SCOPES), name: str | None = None
) -> OidcApp:
    async with system_session() as db:
        registered = await service.register_client(
            db,
            None,
            org_id=org.id,
            name=name or unique("App "),
            redirect_uris=[REDIRECT_URI],
            post_logout_redirect_uris=[LOGOUT_URI],
            scopes=scopes,
            confidential=not public,
        )
        await db.commit()
        return OidcApp(
            id=registered.client.id, org_id=org.id, client_id=registered.client.client_id, secret=registered.secret
        )


def relying_party(
    base_url: str, app: OidcApp, *, scope: str = ALL_SCOPES, secret: str | None = None, auth_method: str | None = None
) -> StarletteOAuth2App:
    """An application configured the usual way: from the discovery URL."""
    method = auth_method or ("none" if app.secret is None else "client_secret_basic")
    return OAuth().register(
        "hexagone",
        client_id=app.client_id,
        client_secret=secret or app.secret,
        server_metadata_url=base_url + "/.well-known/openid-configuration",
        client_kwargs={"scope": scope, "code_challenge_method": "S256", "token_endpoint_auth_method": method},
    )


@dataclass
class SignedIn:
    """A member signed in through the browser, and an application of their organisation."""

    user: TestUser
    app: OidcApp
    rp: StarletteOAuth2App


async def signed_in(
    browser: httpx.AsyncClient, base_url: str, *, scope: str = ALL_SCOPES, **app_options: Any
) -> SignedIn:
    org = await make_org()
    user = await make_user(org)
    app = await make_app(org, **app_options)
    await login(browser, user)
    return SignedIn(user=user, app=app, rp=relying_party(base_url, app, scope=scope))


def redirect_params(response: httpx.Response) -> dict[str, str]:
    """The parameters of a redirect back to the application."""
    assert response.status_code == 302, (response.status_code, response.text[:300])
    location = response.headers["location"]
    assert location.startswith(REDIRECT_URI + "?"), location
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


async def authorization_code(
    browser: httpx.AsyncClient, rp: StarletteOAuth2App, app: OidcApp, **params: Any
) -> tuple[dict[str, Any], str]:
    """Send the signed-in browser through the authorization endpoint; returns what the
    application kept (state, nonce, code_verifier) and the code it received."""
    request = await rp.create_authorization_url(app.redirect_uri, **params)
    back = redirect_params(await browser.get(request["url"]))
    assert back["state"] == request["state"]
    return request, back["code"]


async def sign_in(
    browser: httpx.AsyncClient, rp: StarletteOAuth2App, app: OidcApp, **params: Any
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The whole code flow for a signed-in browser; returns the request and the tokens."""
    request, code = await authorization_code(browser, rp, app, **params)
    token = await rp.fetch_access_token(
        redirect_uri=app.redirect_uri, code=code, code_verifier=request["code_verifier"]
    )
    return request, token


def bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}
