"""Organisations: creation, domains, subscribed modules, branding, MFA policy."""

from __future__ import annotations

import re
import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hexagone.core import audit
from hexagone.core.auth import Principal
from hexagone.core.exceptions import Conflict, Forbidden, Invalid, NotFound
from hexagone.core.i18n import gettext as _
from hexagone.identity.models import Domain, Organisation
from hexagone.identity.service.branding import check_contrast, clean_logo
from hexagone.identity.service.validation import add_unique, clean_label

DOMAIN_RE = re.compile(r"^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
COLOUR_RE = re.compile(r"^#[0-9a-fA-F]{6}$")


def require_admin(actor: Principal) -> None:
    """Organisation-wide administration (the admin console and its API) is for the
    organisation's admins only. Pages check it too, but the rule lives here so that
    every way in (pages, API, CLI) obeys it."""
    if not actor.is_admin:
        raise Forbidden(_("This is reserved for the organisation's administrators."))


def normalise_domain(domain: str) -> str:
    value = domain.strip().lower().rstrip(".")
    if not DOMAIN_RE.match(value):
        raise Invalid(_("“%(domain)s” is not a valid domain name.", domain=domain[:100]))
    return value


async def create_org(db: AsyncSession, *, name: str, domain: str, modules: list[str] | None = None) -> Organisation:
    name = name.strip()
    if not name or len(name) > 200:
        raise Invalid(_("An organisation needs a name of at most 200 characters."))
    domain = normalise_domain(domain)
    if (await db.execute(select(Domain).where(Domain.name == domain))).scalar_one_or_none():
        raise Conflict(_("The domain %(domain)s is already used.", domain=domain))
    org = Organisation(id=uuid.uuid4(), name=name, modules=list(modules or []))
    db.add(org)
    await db.flush()
    db.add(Domain(org_id=org.id, name=domain))
    await db.flush()
    await db.refresh(org, ["domains"])
    return org


async def get_org(db: AsyncSession, org_id: uuid.UUID) -> Organisation:
    org = await db.get(Organisation, org_id)
    if org is None:
        raise NotFound(_("No such organisation."))
    return org


async def org_by_domain(db: AsyncSession, domain: str) -> Organisation | None:
    row = (await db.execute(select(Domain).where(Domain.name == domain.strip().lower()))).scalar_one_or_none()
    return await db.get(Organisation, row.org_id) if row else None


async def add_domain(db: AsyncSession, actor: Principal, domain: str) -> Domain:
    require_admin(actor)
    domain = normalise_domain(domain)
    if (await db.execute(select(Domain).where(Domain.name == domain))).scalar_one_or_none():
        raise Conflict(_("The domain %(domain)s is already used.", domain=domain))
    row = Domain(org_id=actor.org_id, name=domain)
    await add_unique(db, row, _("The domain %(domain)s is already used.", domain=domain))
    audit.record(db, "org.domain_added", org_id=actor.org_id, actor=actor, target_type="domain", target_label=domain)
    return row


async def set_modules(db: AsyncSession, actor: Principal, modules: list[str], available: list[str]) -> Organisation:
    require_admin(actor)
    unknown = sorted(set(modules) - set(available))
    if unknown:
        raise Invalid(_("Unknown modules: %(names)s.", names=", ".join(unknown)))
    org = await get_org(db, actor.org_id)
    before = list(org.modules)
    org.modules = sorted(set(modules))
    audit.record(
        db,
        "org.modules_changed",
        org_id=org.id,
        actor=actor,
        target_type="organisation",
        target_id=org.id,
        target_label=org.name,
        details={"before": before, "after": org.modules},
    )
    return org


async def set_branding(
    db: AsyncSession, actor: Principal, *, name: str, primary: str, logo: bytes | None
) -> Organisation:
    """``logo`` None keeps the current logo; empty bytes remove it."""
    require_admin(actor)
    name = clean_label(name, _("An organisation needs a name of at most 200 characters."))
    if not COLOUR_RE.match(primary):
        raise Invalid(_("The colour must be written #RRGGBB."))
    check_contrast(primary)
    org = await get_org(db, actor.org_id)
    org.name = name
    org.brand_primary = primary.lower()
    if logo is not None:
        org.brand_logo = clean_logo(logo)
    audit.record(
        db,
        "org.branding_changed",
        org_id=org.id,
        actor=actor,
        target_type="organisation",
        target_id=org.id,
        target_label=name,
        details={"primary": org.brand_primary},
    )
    return org


async def remove_logo(db: AsyncSession, actor: Principal) -> Organisation:
    require_admin(actor)
    org = await get_org(db, actor.org_id)
    org.brand_logo = ""
    audit.record(
        db,
        "org.logo_removed",
        org_id=org.id,
        actor=actor,
        target_type="organisation",
        target_id=org.id,
        target_label=org.name,
    )
    return org


async def set_mfa_required(db: AsyncSession, actor: Principal, required: bool) -> Organisation:
    require_admin(actor)
    org = await get_org(db, actor.org_id)
    org.mfa_required = required
    audit.record(
        db,
        "org.mfa_policy_changed",
        org_id=org.id,
        actor=actor,
        target_type="organisation",
        target_id=org.id,
        target_label=org.name,
        details={"required": required},
    )
    return org
