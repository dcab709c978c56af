"""The provider's tables: registered applications (clients), authorization codes and
the tokens issued from them.

Each row belongs to the client's organisation. Secrets, codes and tokens are random
strings handed out once and stored as their SHA-256 only (like login sessions): a copy of
the database opens nothing. The rows also implement authlib's model interfaces, so the
protocol code reads them directly.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from authlib.oauth2.rfc6749 import ClientMixin, TokenMixin, scope_to_list
from authlib.oidc.core import AuthorizationCodeMixin
from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hexagone.core.db import Base, IdMixin, TimestampMixin, utcnow
from hexagone.core.security import same, token_digest
from hexagone.core.tenancy import OrgScoped
from hexagone.identity.models import User

PUBLIC = "none"
SECRET_METHODS = ("client_secret_basic", "client_secret_post")
GRANT_TYPES = ("authorization_code", "refresh_token")


class OidcClient(IdMixin, OrgScoped, TimestampMixin, ClientMixin, Base):
    """An application registered by an organisation's admin. Confidential clients (a
    server that keeps a secret) authenticate with HTTP Basic or form credentials; public
    clients (native or browser apps) have no secret and must use PKCE."""

    __tablename__ = "oidc_clients"

    client_id: Mapped[str] = mapped_column(String(64), unique=True)
    secret_digest: Mapped[str] = mapped_column(String(64), default="")
    name: Mapped[str] = mapped_column(String(200))
    redirect_uris: Mapped[list[str]] = mapped_column(JSON, default=list)
    post_logout_redirect_uris: Mapped[list[str]] = mapped_column(JSON, default=list)
    scopes: Mapped[list[str]] = mapped_column(JSON, default=list)
    token_endpoint_auth_method: Mapped[str] = mapped_column(String(32), default=SECRET_METHODS[0])
    created_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), default=None)

    @property
    def is_public(self) -> bool:
        return self.token_endpoint_auth_method == PUBLIC

    @property
    def client_metadata(self) -> dict[str, object]:
        """The registration metadata authlib's endpoints look up (RFC 7591 names)."""
        return {"post_logout_redirect_uris": list(self.post_logout_redirect_uris)}

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> None:
        """None: OpenID Connect requires every request to name its redirect URI."""
        return None

    def get_allowed_scope(self, scope: str | None) -> str | None:
        """The requested scopes this client may have, in request order; None (refused as
        ``invalid_scope``) when none is left."""
        allowed = [s for s in scope_to_list(scope or "") or [] if s in self.scopes]
        return " ".join(dict.fromkeys(allowed)) or None

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri in self.redirect_uris

    def check_client_secret(self, client_secret: str) -> bool:
        return bool(self.secret_digest) and same(token_digest(client_secret), self.secret_digest)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        """Public clients authenticate as ``none``; confidential ones with their secret,
        in the header or in the form, whichever their library sends."""
        return method == PUBLIC if self.is_public else method in SECRET_METHODS

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type in GRANT_TYPES


class OidcAuthorizationCode(IdMixin, OrgScoped, TimestampMixin, AuthorizationCodeMixin, Base):
    """A one-time code handed to the client through the user's browser. It is kept after
    use (``used_at``) so that a second use can be recognised and the tokens issued from
    the first one revoked, as RFC 6749 §4.1.2 asks."""

    __tablename__ = "oidc_authorization_codes"

    code_digest: Mapped[str] = mapped_column(String(64), unique=True)
    oidc_client_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("oidc_clients.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    redirect_uri: Mapped[str] = mapped_column(String(2000))
    scope: Mapped[str] = mapped_column(String(500))
    nonce: Mapped[str | None] = mapped_column(String(500), default=None)
    code_challenge: Mapped[str | None] = mapped_column(String(128), default=None)
    code_challenge_method: Mapped[str | None] = mapped_column(String(10), default=None)
    auth_time: Mapped[datetime]
    mfa: Mapped[bool] = mapped_column(default=False)
    expires_at: Mapped[datetime] = mapped_column(index=True)
    used_at: Mapped[datetime | None] = mapped_column(default=None)

    client: Mapped[OidcClient] = relationship(lazy="joined")

    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope

    def get_nonce(self) -> str | None:
        return self.nonce

    def get_auth_time(self) -> int:
        return int(self.auth_time.timestamp())

    def get_amr(self) -> list[str]:
        """RFC 8176 methods: the password, and the one-time code when the session passed
        the second factor."""
        return ["pwd", "otp", "mfa"] if self.mfa else ["pwd"]


class OidcToken(IdMixin, OrgScoped, TimestampMixin, TokenMixin, Base):
    """An access token, with its refresh token when ``offline_access`` was granted. A
    refresh makes a new row of the same family and revokes the old one."""

    __tablename__ = "oidc_tokens"

    oidc_client_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("oidc_clients.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    # Every token issued from one authorization code, through all its refreshes, shares
    # the code's id as its family id. A plain column, not a key to the code: the code is
    # purged a day after it expires, the family must be known as long as one of its
    # tokens lives, so that a replayed refresh token still revokes all of it.
    family_id: Mapped[uuid.UUID] = mapped_column(index=True)
    access_digest: Mapped[str] = mapped_column(String(64), unique=True)
    refresh_digest: Mapped[str | None] = mapped_column(String(64), unique=True, default=None)
    scope: Mapped[str] = mapped_column(String(500))
    access_expires_at: Mapped[datetime] = mapped_column(index=True)
    refresh_expires_at: Mapped[datetime | None] = mapped_column(default=None)
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)

    client: Mapped[OidcClient] = relationship(lazy="joined")
    user: Mapped[User] = relationship()

    @property
    def scopes(self) -> frozenset[str]:
        return frozenset(scope_to_list(self.scope) or ())

    def check_client(self, client: OidcClient) -> bool:
        return self.oidc_client_id == client.id

    def get_client(self) -> OidcClient:
        return self.client

    def get_user(self) -> User:
        return self.user

    def get_scope(self) -> str:
        return self.scope

    def get_expires_in(self) -> int:
        return max(0, int((self.access_expires_at - self.created_at).total_seconds()))

    def is_expired(self) -> bool:
        return self.access_expires_at <= utcnow()

    def is_revoked(self) -> bool:
        return self.revoked_at is not None
