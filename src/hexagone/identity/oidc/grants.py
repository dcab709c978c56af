"""The two grants the provider speaks: authorization code (with PKCE and OpenID
Connect's ID token) and refresh token, as authlib grants over our tables.

Rules beyond authlib's defaults, and why:
- PKCE with S256 is required of public clients (they have no secret to prove that the
  code is theirs) and accepted from confidential ones; ``plain`` is refused.
- Refresh tokens are issued only when ``offline_access`` was granted, and rotate on every
  use; presenting a rotated one again revokes the whole family (RFC 9700 §4.14).
- A code is spent once; a second use revokes what the first one obtained.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar, Protocol

from authlib.oauth2.rfc6749 import InvalidRequestError, grants, scope_to_list
from authlib.oauth2.rfc6750 import BearerTokenGenerator
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oidc.core import UserInfo
from authlib.oidc.core import grants as oidc_grants
from joserfc.jwk import RSAKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from hexagone.core.db import utcnow
from hexagone.core.security import new_token, token_digest
from hexagone.identity.models import User
from hexagone.identity.oidc import claims, keys, store
from hexagone.identity.oidc.models import PUBLIC, SECRET_METHODS, OidcAuthorizationCode, OidcClient, OidcToken

TOKEN_ENDPOINT_AUTH_METHODS = [*SECRET_METHODS, PUBLIC]
ID_TOKEN_LIFETIME_SECONDS = 3600
S256 = "S256"


# What the grants use of the provider and of its requests, which
# :mod:`hexagone.identity.oidc.server` defines (it registers these grants, so they
# cannot import it back).


class Provider(Protocol):
    db: Session
    issuer: str


class ProviderRequest(Protocol):
    client: Any  # OidcClient, once authenticated
    user: Any  # User, once authorised
    scope: str
    payload: Any
    auth_time: datetime | None
    mfa: bool


def _random_token(**_context: Any) -> str:
    return new_token(32)


class TokenGenerator(BearerTokenGenerator):
    """Random opaque bearer tokens; a refresh token only with ``offline_access``."""

    def __init__(self) -> None:
        super().__init__(_random_token, _random_token, int(store.ACCESS_LIFETIME.total_seconds()))

    def generate(
        self,
        grant_type: str,
        client: OidcClient,
        user: User | None = None,
        scope: str | None = None,
        expires_in: int | None = None,
        include_refresh_token: bool = True,
    ) -> dict[str, Any]:
        offline = claims.OFFLINE_ACCESS in (scope_to_list(self.get_allowed_scope(client, scope)) or ())
        return super().generate(grant_type, client, user, scope, expires_in, include_refresh_token and offline)


class Pkce(CodeChallenge):
    SUPPORTED_CODE_CHALLENGE_METHOD: ClassVar = [S256]

    def __init__(self) -> None:
        super().__init__(required=True)

    def validate_code_challenge(self, grant: grants.AuthorizationCodeGrant, redirect_uri: str) -> None:
        data = grant.request.payload.data
        if grant.request.client.is_public and not data.get("code_challenge"):
            raise InvalidRequestError("Public clients must send a PKCE 'code_challenge' (S256).")
        if data.get("code_challenge") and data.get("code_challenge_method") != S256:
            raise InvalidRequestError("Only the S256 'code_challenge_method' is supported.")
        super().validate_code_challenge(grant, redirect_uri)


class OpenIDCode(oidc_grants.OpenIDCode):
    """Adds the ID token, signed with the provider's current key."""

    DEFAULT_EXPIRES_IN = ID_TOKEN_LIFETIME_SECONDS

    def __init__(self, server: Provider):
        super().__init__(require_nonce=False)
        self.server = server

    def exists_nonce(self, nonce: str, request: ProviderRequest) -> bool:
        """A nonce already used with this client is a replayed request."""
        found = self.server.db.execute(
            select(OidcAuthorizationCode.id).where(
                OidcAuthorizationCode.oidc_client_id == request.client.id, OidcAuthorizationCode.nonce == nonce
            )
        ).first()
        return found is not None

    def resolve_client_private_key(self, client: OidcClient) -> RSAKey:
        return keys.signing_keys().current

    def get_client_algorithm(self, client: OidcClient) -> str:
        return keys.ALGORITHM

    def get_encode_header(self, client: OidcClient) -> dict[str, str]:
        return {"alg": keys.ALGORITHM, "kid": keys.signing_keys().current.kid or ""}

    def get_client_claims(self, client: OidcClient) -> dict[str, str]:
        return {"iss": self.server.issuer, "aud": client.client_id}

    def generate_user_info(self, user: User, scope: str) -> UserInfo:
        return claims.user_info(self.server.db, user, scope)


class AuthorizationCode(grants.AuthorizationCodeGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = TOKEN_ENDPOINT_AUTH_METHODS
    server: Provider
    request: ProviderRequest

    def save_authorization_code(self, code: str, request: ProviderRequest) -> None:
        store.purge_expired(self.server.db)
        data = request.payload.data
        self.server.db.add(
            OidcAuthorizationCode(
                org_id=request.client.org_id,
                code_digest=token_digest(code),
                oidc_client_id=request.client.id,
                user_id=request.user.id,
                redirect_uri=request.payload.redirect_uri,
                scope=request.scope,
                nonce=data.get("nonce"),
                code_challenge=data.get("code_challenge"),
                code_challenge_method=data.get("code_challenge_method"),
                auth_time=request.auth_time,
                mfa=request.mfa,
                expires_at=utcnow() + store.CODE_LIFETIME,
            )
        )

    def query_authorization_code(self, code: str, client: OidcClient) -> OidcAuthorizationCode | None:
        row = store.code_by_value(self.server.db, code, client)
        if row is None:
            return None
        if row.used_at is not None:
            store.revoke_family(self.server.db, row.id, "authorization code used twice")
            return None
        return row if row.expires_at > utcnow() else None

    def delete_authorization_code(self, authorization_code: OidcAuthorizationCode) -> None:
        """Spent, not deleted: see :func:`query_authorization_code`."""
        authorization_code.used_at = utcnow()

    def authenticate_user(self, authorization_code: OidcAuthorizationCode) -> User | None:
        return store.active_user(self.server.db, authorization_code.user_id, authorization_code.org_id)


class RefreshToken(grants.RefreshTokenGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = TOKEN_ENDPOINT_AUTH_METHODS
    INCLUDE_NEW_REFRESH_TOKEN = True
    server: Provider

    def authenticate_refresh_token(self, refresh_token: str) -> OidcToken | None:
        row = store.token_by_refresh(self.server.db, refresh_token)
        if row is None:
            return None
        if row.revoked_at is not None:
            store.revoke_family(self.server.db, row.family_id, "revoked refresh token presented")
            return None
        expires = row.refresh_expires_at
        return row if expires is not None and expires > utcnow() else None

    def authenticate_user(self, refresh_token: OidcToken) -> User | None:
        return store.active_user(self.server.db, refresh_token.user_id, refresh_token.org_id)

    def revoke_old_credential(self, refresh_token: OidcToken) -> None:
        refresh_token.revoked_at = utcnow()
