"""Access tokens as credentials for the JSON API: the core's ``BearerResolver``.

Only a token that carries the ``api`` scope opens ``/api/v1``, and nothing else (the core
refuses tokens on every page): a token an application obtained just to sign its user in
(``openid profile email``) cannot read the user's data through the API. The
principal carries the token's scopes, for routes that require finer ones.
"""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy import select

from hexagone.core.auth import Principal
from hexagone.core.db import system_session, utcnow
from hexagone.core.security import token_digest
from hexagone.identity.oidc.claims import API
from hexagone.identity.oidc.models import OidcToken
from hexagone.identity.service.principals import load_principal

MAX_TOKEN_LENGTH = 512


async def principal_for_access_token(token: str) -> Principal | None:
    if len(token) > MAX_TOKEN_LENGTH:
        return None
    async with system_session() as db:
        row = (
            await db.execute(
                select(OidcToken.user_id, OidcToken.scope).where(
                    OidcToken.access_digest == token_digest(token),
                    OidcToken.revoked_at.is_(None),
                    OidcToken.access_expires_at > utcnow(),
                )
            )
        ).first()
        if row is None:
            return None
        scopes = frozenset(row.scope.split())
        if API not in scopes:
            return None
        principal = await load_principal(db, row.user_id)
    return replace(principal, scopes=scopes) if principal is not None else None
