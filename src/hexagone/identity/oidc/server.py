"""The provider: authlib's ``AuthorizationServer`` over our tables, built for one request
at a time because it holds that request's database session, with the endpoints beside
the grants (revocation, userinfo, RP-initiated logout) and the discovery document.

Everything here is synchronous and runs inside ``AsyncSession.run_sync`` (see the package
docstring); the pages in :mod:`hexagone.identity.oidc.web` do the asynchronous part.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from authlib.oauth2.rfc6749 import AuthorizationServer, OAuth2Payload, OAuth2Request, ResourceProtector
from authlib.oauth2.rfc6750 import BearerTokenValidator
from authlib.oauth2.rfc7009 import RevocationEndpoint
from authlib.oidc.core import UserInfoEndpoint
from authlib.oidc.rpinitiated import EndSessionEndpoint, EndSessionRequest
from joserfc.jwk import KeySet
from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from hexagone.core.auth import Principal
from hexagone.core.config import get_settings
from hexagone.core.db import utcnow
from hexagone.core.security import token_digest
from hexagone.identity.models import User
from hexagone.identity.oidc import claims, keys, store
from hexagone.identity.oidc.grants import (
    S256,
    TOKEN_ENDPOINT_AUTH_METHODS,
    AuthorizationCode,
    OpenIDCode,
    Pkce,
    RefreshToken,
    TokenGenerator,
)
from hexagone.identity.oidc.models import GRANT_TYPES, OidcToken

AUTHORIZE_PATH = "/oidc/authorize"
TOKEN_PATH = "/oidc/token"
USERINFO_PATH = "/oidc/userinfo"
REVOKE_PATH = "/oidc/revoke"
JWKS_PATH = "/oidc/jwks"
LOGOUT_PATH = "/oidc/logout"
DISCOVERY_PATH = "/.well-known/openid-configuration"


class ProviderPayload(OAuth2Payload):
    def __init__(self, pairs: Sequence[tuple[str, str]]):
        self._datalist: defaultdict[str, list[str]] = defaultdict(list)
        for name, value in pairs:
            self._datalist[name].append(value)
        self._data = {name: values[0] for name, values in self._datalist.items()}

    @property
    def data(self) -> dict[str, str]:
        return self._data

    @property
    def datalist(self) -> defaultdict[str, list[str]]:
        return self._datalist


class ProviderRequest(OAuth2Request):
    """An HTTP request as authlib reads it: parameters from the query string (GET) or
    the form (POST), the user signed in through the browser, if any, and when they
    authenticated."""

    def __init__(
        self,
        method: str,
        uri: str,
        headers: Mapping[str, str],
        query: Sequence[tuple[str, str]],
        form: Sequence[tuple[str, str]],
        principal: Principal | None,
    ):
        super().__init__(method, uri, headers=headers)
        self._args = dict(query)
        self._form = dict(form)
        self.payload = ProviderPayload(form if method == "POST" else query)
        self.principal = principal
        self.auth_time: datetime | None = None
        self.mfa = False

    @property
    def args(self) -> dict[str, str]:
        return self._args

    @property
    def form(self) -> dict[str, str]:
        return self._form


async def read_request(request: Request, principal: Principal | None = None) -> ProviderRequest:
    """Read the body now (authlib's code is synchronous), and name the request by the
    configured base URL: behind a TLS proxy that is the https address clients use.
    Raises authlib's ``InsecureTransportError`` for a plain-http public base URL."""
    form: list[tuple[str, str]] = []
    if request.method == "POST":
        form = [(k, v) for k, v in (await request.form()).multi_items() if isinstance(v, str)]
    query = f"?{request.url.query}" if request.url.query else ""
    uri = get_settings().resolved_base_url + request.url.path + query
    return ProviderRequest(
        request.method, uri, request.headers, list(request.query_params.multi_items()), form, principal
    )


class Provider(AuthorizationServer):
    def __init__(self, db: Session, issuer: str):
        super().__init__(scopes_supported=list(claims.SCOPES))
        self.db = db
        self.issuer = issuer
        self.register_token_generator("default", TokenGenerator())
        self.register_grant(AuthorizationCode, [Pkce(), OpenIDCode(self)])
        self.register_grant(RefreshToken)
        self.register_endpoint(Revocation)
        self.register_endpoint(Userinfo)
        self.register_endpoint(EndSession)

    def query_client(self, client_id: str) -> Any:
        return store.client_by_id(self.db, client_id)

    def save_token(self, token: dict[str, Any], request: ProviderRequest) -> None:
        """One row per issue, in the family of the authorization code it descends from
        (through refreshes too), so that a replay can revoke the whole family."""
        now = utcnow()
        code = request.authorization_code
        refresh = token.get("refresh_token")
        self.db.add(
            OidcToken(
                org_id=request.client.org_id,
                oidc_client_id=request.client.id,
                user_id=request.user.id,
                family_id=code.id if code else request.refresh_token.family_id,
                access_digest=token_digest(token["access_token"]),
                refresh_digest=token_digest(refresh) if refresh else None,
                scope=token.get("scope", ""),
                created_at=now,
                access_expires_at=now + store.ACCESS_LIFETIME,
                refresh_expires_at=now + store.REFRESH_LIFETIME if refresh else None,
            )
        )

    def create_oauth2_request(self, request: ProviderRequest) -> ProviderRequest:
        return request

    def handle_response(self, status: int, body: Any, headers: list[tuple[str, str]]) -> Response:
        if isinstance(body, dict):
            return JSONResponse(body, status_code=status, headers=dict(headers))
        return Response(body, status_code=status, headers=dict(headers))

    def send_signal(self, name: str, *args: Any, **kwargs: Any) -> None:
        """Authlib announces client authentication and revocation here; nothing listens."""


class Revocation(RevocationEndpoint):
    """RFC 7009. Revoking either token of a pair revokes both: they were issued together
    and the client asked to end that access."""

    CLIENT_AUTH_METHODS = TOKEN_ENDPOINT_AUTH_METHODS
    server: Provider

    def query_token(self, token_string: str, token_type_hint: str | None) -> OidcToken | None:
        lookups = [store.token_by_access, store.token_by_refresh]
        if token_type_hint == "refresh_token":
            lookups.reverse()
        for lookup in lookups:
            row = lookup(self.server.db, token_string)
            if row is not None:
                return row
        return None

    def revoke_token(self, token: OidcToken, request: ProviderRequest) -> None:
        if token.revoked_at is None:
            token.revoked_at = utcnow()


class BearerValidator(BearerTokenValidator):
    def __init__(self, db: Session):
        super().__init__()
        self.db = db

    def authenticate_token(self, token_string: str) -> OidcToken | None:
        """The token, unless its user was disabled since (authlib checks expiry,
        revocation and scope)."""
        row = store.token_by_access(self.db, token_string)
        if row is None or store.active_user(self.db, row.user_id, row.org_id) is None:
            return None
        return row


class RequestProtector(ResourceProtector):
    """Authlib's userinfo endpoint asks for the token without passing the request; this
    protector is built for the one request it guards."""

    def __init__(self, db: Session, request: ProviderRequest):
        super().__init__()
        self.request = request
        self.register_token_validator(BearerValidator(db))

    def acquire_token(self, scope: str) -> OidcToken:
        return self.validate_request([scope], self.request)


class Userinfo(UserInfoEndpoint):
    server: Provider

    def create_endpoint_request(self, request: ProviderRequest) -> ProviderRequest:
        self.resource_protector = RequestProtector(self.server.db, request)
        return request

    def generate_user_info(self, user: User, scope: str) -> claims.UserInfo:
        return claims.user_info(self.server.db, user, scope)


class EndSession(EndSessionEndpoint):
    """RP-initiated logout: ends the user's Hexagone session (the browser one that made
    this request); the page decides first whether the user must confirm."""

    server: Provider

    def get_server_jwks(self) -> KeySet:
        return keys.signing_keys().published

    def get_algorithms(self) -> list[str]:
        return [keys.ALGORITHM]

    def end_session(self, end_session_request: EndSessionRequest) -> None:
        principal: Principal | None = end_session_request.request.principal
        if principal is not None and principal.session_id is not None:
            store.end_browser_session(self.server.db, principal.session_id)

    @staticmethod
    def hinted_subject(end_session_request: EndSessionRequest) -> uuid.UUID | None:
        """The user the ``id_token_hint`` names, when there is a valid one."""
        subject = (end_session_request.id_token_claims or {}).get("sub")
        try:
            return uuid.UUID(str(subject)) if subject else None
        except ValueError:
            return None


def discovery_document(issuer: str) -> dict[str, Any]:
    """OpenID Connect Discovery 1.0 metadata, true to what the endpoints do."""
    methods = list(TOKEN_ENDPOINT_AUTH_METHODS)
    return {
        "issuer": issuer,
        "authorization_endpoint": issuer + AUTHORIZE_PATH,
        "token_endpoint": issuer + TOKEN_PATH,
        "userinfo_endpoint": issuer + USERINFO_PATH,
        "jwks_uri": issuer + JWKS_PATH,
        "revocation_endpoint": issuer + REVOKE_PATH,
        "end_session_endpoint": issuer + LOGOUT_PATH,
        "scopes_supported": list(claims.SCOPES),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": list(GRANT_TYPES),
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": [keys.ALGORITHM],
        "token_endpoint_auth_methods_supported": methods,
        "revocation_endpoint_auth_methods_supported": methods,
        "code_challenge_methods_supported": [S256],
        "claims_supported": claims.CLAIMS_SUPPORTED,
        "prompt_values_supported": ["none", "login"],
        "claims_parameter_supported": False,
        "request_parameter_supported": False,
        "request_uri_parameter_supported": False,
    }
