"""Applications an organisation registers with Hexagone's OpenID provider: register,
list, delete, rotate the secret. The admin console and the CLI both come here; every
change is audited.

A confidential client's secret is generated here and returned once; only its digest is
kept, so a lost secret is replaced (rotated), never shown again.
"""

from __future__ import annotations

import ipaddress
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from sqlalchemy import delete, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from hexagone.core import audit, policy
from hexagone.core.auth import Principal
from hexagone.core.db import utcnow
from hexagone.core.exceptions import Forbidden, Invalid, NotFound
from hexagone.core.i18n import gettext as _
from hexagone.core.security import new_token, token_digest
from hexagone.identity.oidc import policy as _rules  # noqa: F401 - registers the ability rule
from hexagone.identity.oidc.claims import DEFAULT_SCOPES, SCOPES
from hexagone.identity.oidc.models import PUBLIC, SECRET_METHODS, OidcAuthorizationCode, OidcClient, OidcToken

MAX_URIS = 10
MAX_URI_LENGTH = 2000
CLI_ACTOR = "cli"
LOOPBACK_HOSTS = {"localhost"}


@dataclass(frozen=True)
class Registered:
    client: OidcClient
    secret: str | None  # the plain secret, shown once; None for a public client


def _acceptable_redirect(uri: str) -> bool:
    """https anywhere; http only to this machine (RFC 8252 §7.3, for native apps and
    development); a native app's private-use scheme in reverse-domain form (§7.1). Never
    a fragment, which the code would be appended after."""
    try:
        parts = urlsplit(uri)
    except ValueError:
        return False
    if parts.fragment or len(uri) > MAX_URI_LENGTH or any(c.isspace() for c in uri):
        return False
    if parts.scheme == "https":
        return bool(parts.hostname)
    if parts.scheme == "http":
        return _is_loopback(parts.hostname or "")
    return "." in parts.scheme and parts.scheme not in ("javascript", "data", "file") and bool(parts.path)


def _is_loopback(host: str) -> bool:
    if host in LOOPBACK_HOSTS:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def clean_uris(uris: Iterable[str], *, required: bool) -> list[str]:
    cleaned = list(dict.fromkeys(u.strip() for u in uris if u.strip()))
    if required and not cleaned:
        raise Invalid(_("Give at least one redirect URI."))
    if len(cleaned) > MAX_URIS:
        raise Invalid(_("At most %(n)s URIs.", n=MAX_URIS))
    for uri in cleaned:
        if not _acceptable_redirect(uri):
            raise Invalid(
                _(
                    "“%(uri)s” cannot be a redirect URI: use https (http only for this machine, such as "
                    "127.0.0.1), with no fragment.",
                    uri=uri[:100],
                )
            )
    return cleaned


def clean_scopes(scopes: Iterable[str]) -> list[str]:
    chosen = list(dict.fromkeys(s.strip() for s in scopes if s.strip()))
    unknown = [s for s in chosen if s not in SCOPES]
    if unknown:
        raise Invalid(_("Unknown scopes: %(names)s.", names=", ".join(unknown)[:200]))
    if not chosen:
        raise Invalid(_("Choose at least one scope."))
    return chosen


def _require_admin(actor: Principal | None) -> None:
    if actor is not None and not actor.is_admin:
        raise Forbidden(_("Only the organisation's administrators manage applications."))


def _record(db: AsyncSession, action: str, client: OidcClient, actor: Principal | None, **details: object) -> None:
    audit.record(
        db,
        action,
        org_id=client.org_id,
        actor=actor,
        actor_label="" if actor else CLI_ACTOR,
        target_type="oidc_client",
        target_id=client.id,
        target_label=client.name,
        details={"client_id": client.client_id, **details},
    )


async def register_client(
    db: AsyncSession,
    actor: Principal | None,
    *,
    name: str,
    redirect_uris: Iterable[str],
    confidential: bool = True,
    post_logout_redirect_uris: Iterable[str] = (),
    scopes: Iterable[str] = DEFAULT_SCOPES,
    org_id: uuid.UUID | None = None,
) -> Registered:
    """Register an application of the actor's organisation (``actor`` None: the CLI,
    which names ``org_id``). Returns the client with its plain secret, shown once."""
    _require_admin(actor)
    owner = actor.org_id if actor is not None else org_id
    if owner is None:
        raise Invalid(_("No organisation given."))
    name = name.strip()
    if not name or len(name) > 200:
        raise Invalid(_("An application needs a name of at most 200 characters."))
    secret = new_token(32) if confidential else None
    client = OidcClient(
        org_id=owner,
        client_id=uuid.uuid4().hex,
        secret_digest=token_digest(secret) if secret else "",
        name=name,
        redirect_uris=clean_uris(redirect_uris, required=True),
        post_logout_redirect_uris=clean_uris(post_logout_redirect_uris, required=False),
        scopes=clean_scopes(scopes),
        token_endpoint_auth_method=SECRET_METHODS[0] if confidential else PUBLIC,
        created_by=actor.user_id if actor else None,
    )
    db.add(client)
    await db.flush()
    _record(
        db,
        "oidc.client_registered",
        client,
        actor,
        redirect_uris=client.redirect_uris,
        scopes=client.scopes,
        public=client.is_public,
    )
    return Registered(client=client, secret=secret)


async def list_clients(db: AsyncSession, actor: Principal) -> list[OidcClient]:
    """The organisation's applications (``db`` is scoped to the actor's organisation)."""
    _require_admin(actor)
    return list((await db.execute(select(OidcClient).order_by(OidcClient.name, OidcClient.created_at))).scalars())


async def get_client(db: AsyncSession, actor: Principal, client_pk: uuid.UUID) -> OidcClient:
    client = await db.get(OidcClient, client_pk)
    if client is None:
        raise NotFound(_("No such application."))
    policy.require(actor, client, "view", _("No such application."))
    return client


async def delete_client(db: AsyncSession, actor: Principal, client: OidcClient) -> int:
    """Delete the application with its codes and tokens, which stop working at once.
    Returns how many tokens were still live."""
    policy.require(actor, client, "delete", _("No such application."))
    now = utcnow()
    live = (
        await db.execute(
            select(func.count())
            .select_from(OidcToken)
            .where(
                OidcToken.oidc_client_id == client.id,
                OidcToken.revoked_at.is_(None),
                or_(OidcToken.access_expires_at > now, OidcToken.refresh_expires_at > now),
            )
        )
    ).scalar_one()
    await db.execute(delete(OidcToken).where(OidcToken.oidc_client_id == client.id))
    await db.execute(delete(OidcAuthorizationCode).where(OidcAuthorizationCode.oidc_client_id == client.id))
    _record(db, "oidc.client_deleted", client, actor, tokens_revoked=live)
    await db.delete(client)
    return int(live)


async def rotate_secret(db: AsyncSession, actor: Principal, client: OidcClient) -> str:
    """A new secret, returned once; the old one stops working at once. Tokens already
    issued stay valid until they expire (refreshing them needs the new secret)."""
    policy.require(actor, client, "edit", _("No such application."))
    if client.is_public:
        raise Invalid(_("A public application has no secret."))
    secret = new_token(32)
    client.secret_digest = token_digest(secret)
    _record(db, "oidc.client_secret_rotated", client, actor)
    return secret
