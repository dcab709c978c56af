"""The provider's HTTP face. Browsers come to ``/oidc/authorize`` and ``/oidc/logout`` (and
post back there the confirmations these pages ask for, with their CSRF token);
applications call the token, userinfo and revocation endpoints and read the discovery
document and the JWKS.

Token, userinfo and revocation authenticate their caller themselves (client credentials
or a bearer token checked here), so they are registered with the core as such: no
cookie principal, no CSRF token there (see :data:`hexagone.core.web.SELF_AUTHENTICATED_PATHS`).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from urllib.parse import quote, urlencode

from authlib.oauth2.rfc6749 import OAuth2Error
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from hexagone.core import templating
from hexagone.core.auth import SESSION_COOKIE, Principal
from hexagone.core.config import get_settings
from hexagone.core.db import system_session, utcnow
from hexagone.core.errors import error_page
from hexagone.core.i18n import gettext as _
from hexagone.core.models import AuthSession
from hexagone.core.web import CSRF_FIELD, add_self_authenticated_paths, session_principal
from hexagone.identity.models import User
from hexagone.identity.oidc import keys, store
from hexagone.identity.oidc.server import (
    AUTHORIZE_PATH,
    DISCOVERY_PATH,
    JWKS_PATH,
    LOGOUT_PATH,
    REVOKE_PATH,
    TOKEN_PATH,
    USERINFO_PATH,
    EndSession,
    Provider,
    ProviderRequest,
    discovery_document,
    read_request,
)

# What an RP-initiated logout request may carry, kept through the confirmation form.
LOGOUT_FIELDS = ("id_token_hint", "client_id", "post_logout_redirect_uri", "state", "logout_hint", "ui_locales")
# Parameters dropped from the authorization request sent back through a new sign-in, so
# that it does not ask for yet another one.
REAUTHENTICATION_PARAMETERS = ("prompt", "max_age")

Action = Callable[[Provider, ProviderRequest], Response]

add_self_authenticated_paths(TOKEN_PATH, USERINFO_PATH, REVOKE_PATH)


def _issuer() -> str:
    return get_settings().resolved_base_url


async def _run(request: Request, action: Action, principal: Principal | None = None) -> Response:
    """Read the request, then let authlib answer it inside ``run_sync`` (see the package
    docstring) on an unscoped session: a client is found by its id before anyone knows
    its organisation. What the action wrote is committed, errors included (a replayed
    code revokes tokens and still answers ``invalid_grant``)."""
    try:
        provider_request = await read_request(request, principal)
    except OAuth2Error as error:
        return JSONResponse(dict(error.get_body()), status_code=error.status_code)
    async with system_session() as db:
        response: Response = await db.run_sync(lambda session: action(Provider(session, _issuer()), provider_request))
        await db.commit()
    return response


async def discovery(_request: Request) -> Response:
    return JSONResponse(discovery_document(_issuer()), headers={"cache-control": "public, max-age=3600"})


async def jwks(_request: Request) -> Response:
    return JSONResponse(keys.signing_keys().jwks(), headers={"cache-control": "public, max-age=300"})


async def token(request: Request) -> Response:
    return await _run(request, lambda provider, req: provider.create_token_response(req))


async def userinfo(request: Request) -> Response:
    return await _run(request, lambda provider, req: provider.create_endpoint_response("userinfo", req))


async def revoke(request: Request) -> Response:
    return await _run(request, lambda provider, req: provider.create_endpoint_response("revocation", req))


async def authorize(request: Request) -> Response:
    return await _run(request, partial(_authorize, request), session_principal(request))


def _authorize(request: Request, provider: Provider, req: ProviderRequest) -> Response:
    """Check the request (authlib), get the user signed in (our login form, MFA
    included), refuse users of another organisation, then send the code back."""
    principal = req.principal
    user = None
    if principal is not None and principal.session_id is not None:
        user = provider.db.get(User, principal.user_id)
        session = provider.db.get(AuthSession, principal.session_id)
        req.auth_time = session.created_at if session is not None else utcnow()
        req.mfa = principal.mfa_enabled  # the core lets no one here with the second factor pending
    try:
        grant = provider.get_consent_grant(req, end_user=user)
    except OAuth2Error as error:
        if error.redirect_uri:  # the client and its redirect URI are known good: tell the client
            return provider.handle_error_response(req, error)
        return error_page(
            request, 400, _("This sign-in request is not valid: %(reason)s", reason=error.description or error.error)
        )
    if principal is None or user is None:
        return RedirectResponse(f"/login?next={quote(_local_url(req))}", status_code=303)
    if grant.prompt == "login" or _older_than_max_age(req):
        if request.method != "POST":  # GET, or HEAD (a link preview)
            return _confirm_sign_in_again(request, req)
        return _sign_in_again(provider, req, principal)
    if req.client.org_id != principal.org_id:
        return error_page(
            request, 403, _("This application belongs to another organisation: your account cannot sign in to it.")
        )
    if principal.is_guest:
        return error_page(request, 403, _("Guests cannot sign in to the organisation's applications."))
    # Applications are registered by the organisation's admins: first-party, no consent screen.
    return provider.create_authorization_response(req, grant_user=user, grant=grant)


def _local_url(req: ProviderRequest, drop: tuple[str, ...] = ()) -> str:
    """The authorization request as a same-site URL to come back to (a GET, whichever
    way it came), without ``drop`` and the CSRF token of our confirmation form."""
    dropped = (*drop, CSRF_FIELD)
    query = urlencode([(k, v) for k, values in req.payload.datalist.items() if k not in dropped for v in values])
    return AUTHORIZE_PATH + (f"?{query}" if query else "")


def _older_than_max_age(req: ProviderRequest) -> bool:
    max_age = req.payload.data.get("max_age", "")
    if not max_age.isdigit() or req.auth_time is None:
        return False
    return (utcnow() - req.auth_time).total_seconds() > int(max_age)


def _confirm_sign_in_again(request: Request, req: ProviderRequest) -> Response:
    """``prompt=login`` or an older sign-in than ``max_age`` allows, by a link: ask first.
    A link anyone can send must not end the session (the Lax cookie rides along on a
    top-level GET); the confirmation comes back as a POST with its CSRF token."""
    fields = [(k, v) for k, values in req.payload.datalist.items() for v in values]
    return templating.render(
        request, "identity/oidc_sign_in_again.html", {"client": req.client, "fields": fields, "action": AUTHORIZE_PATH}
    )


def _sign_in_again(provider: Provider, req: ProviderRequest, principal: Principal) -> Response:
    """The user confirmed: end this session and come back through the login form."""
    assert principal.session_id is not None
    store.end_browser_session(provider.db, principal.session_id)
    target = _local_url(req, drop=REAUTHENTICATION_PARAMETERS)
    response = RedirectResponse(f"/login?next={quote(target)}", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


async def logout(request: Request) -> Response:
    return await _run(request, partial(_logout, request), session_principal(request))


def _logout(request: Request, provider: Provider, req: ProviderRequest) -> Response:
    """RP-initiated logout. Without an ID token naming the signed-in user, the user
    confirms first (a link anyone can send must not sign people out silently); the
    confirmation form comes back here as a POST, with its CSRF token."""
    try:
        ending = provider.validate_endpoint_request("end_session", req)
    except OAuth2Error as error:
        return error_page(
            request, 400, _("This sign-out request is not valid: %(reason)s", reason=error.description or error.error)
        )
    principal = req.principal
    if principal is not None and request.method != "POST" and EndSession.hinted_subject(ending) != principal.user_id:
        fields = [(name, value) for name in LOGOUT_FIELDS if (value := req.payload.data.get(name))]
        return templating.render(
            request, "identity/oidc_logout.html", {"confirm": True, "fields": fields, "client": ending.client}
        )
    response = provider.create_endpoint_response("end_session", ending) or templating.render(
        request, "identity/oidc_logout.html", {"confirm": False, "principal": None, "nav": []}
    )
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


ROUTES = [
    Route(DISCOVERY_PATH, discovery),
    Route(JWKS_PATH, jwks),
    Route(AUTHORIZE_PATH, authorize, methods=["GET", "POST"]),
    Route(TOKEN_PATH, token, methods=["POST"]),
    Route(USERINFO_PATH, userinfo, methods=["GET", "POST"]),
    Route(REVOKE_PATH, revoke, methods=["POST"]),
    Route(LOGOUT_PATH, logout, methods=["GET", "POST"]),
]
