"""Users of an organisation: creation (one, or many from CSV), profile, password,
disabling, and the admin's reset of a user's second factor."""

from __future__ import annotations

import csv
import io
import uuid
from dataclasses import dataclass

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hexagone.core import audit, auth, policy
from hexagone.core.auth import Principal
from hexagone.core.exceptions import Conflict, Forbidden, Invalid, NotFound
from hexagone.core.i18n import LANGUAGES
from hexagone.core.i18n import gettext as _
from hexagone.core.security import MIN_PASSWORD_LENGTH, hash_password, new_token
from hexagone.identity.models import Domain, Group, GroupMember, OrgRole, RecoveryCode, Space, SpaceMember, User
from hexagone.identity.service.orgs import require_admin
from hexagone.identity.service.validation import add_unique, clean_label, clean_query, like_pattern

# The roles an admin may give a member of the organisation. A guest stays a guest: their
# address is outside the organisation's domains, which only members may have.
ASSIGNABLE_ROLES = (OrgRole.ADMIN, OrgRole.USER)
# Each line costs a password hash; a larger organisation imports in several files.
MAX_IMPORT_LINES = 1000


def normalise_email(email: str) -> str:
    """Lower-cased and IDNA-normalised. Intranet and test domains (.internal, .test) are
    allowed: an organisation hosting itself may well use them."""
    try:
        return validate_email(
            email.strip(), check_deliverability=False, globally_deliverable=False, test_environment=True
        ).normalized.lower()
    except EmailNotValidError:
        raise Invalid(_("“%(email)s” is not a valid e-mail address.", email=email.strip()[:100])) from None


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise Invalid(_("The password must have at least %(n)s characters.", n=MIN_PASSWORD_LENGTH))
    if len(password) > 1024:
        raise Invalid(_("The password is too long."))


async def email_taken(db: AsyncSession, email: str) -> bool:
    return (await db.execute(select(User.id).where(User.email == email))).first() is not None


async def create_user(
    db: AsyncSession,
    *,
    org_id: uuid.UUID,
    email: str,
    display_name: str,
    password: str | None,
    role: OrgRole = OrgRole.USER,
    actor: Principal | None = None,
) -> tuple[User, str | None]:
    """Create a user; returns it with the generated password when none was given.

    Members must have an address in one of the organisation's domains; guests come from
    elsewhere by definition.
    """
    if actor is not None:
        require_admin(actor)
    email = normalise_email(email)
    display_name = clean_label(display_name, _("A name of at most 200 characters is required."))
    if role not in (OrgRole.ADMIN, OrgRole.USER, OrgRole.GUEST):
        raise Invalid(_("Unknown role."))
    if role != OrgRole.GUEST:
        domain = email.rpartition("@")[2]
        owned = await db.execute(select(Domain.id).where(Domain.org_id == org_id, Domain.name == domain))
        if owned.first() is None:  # Forbidden: an organisation creates accounts in its own domains only
            raise Forbidden(_("%(email)s is not in one of the organisation's domains.", email=email))
    if await email_taken(db, email):
        raise Conflict(_("An account already exists for %(email)s.", email=email))
    generated = None
    if password is None:
        password = generated = new_token(12)
    check_password(password)
    user = User(org_id=org_id, email=email, display_name=display_name, role=role, password_hash=hash_password(password))
    await add_unique(db, user, _("An account already exists for %(email)s.", email=email))
    audit.record(
        db,
        "user.created",
        org_id=org_id,
        actor=actor,
        actor_label="cli" if actor is None else "",
        target_type="user",
        target_id=user.id,
        target_label=email,
        details={"role": str(role)},
    )
    return user, generated


async def get_user(db: AsyncSession, user_id: uuid.UUID) -> User:
    """A user of the session's organisation (the session is org-scoped)."""
    user = await db.get(User, user_id)
    if user is None:
        raise NotFound(_("No such user."))
    return user


async def list_users(db: AsyncSession, *, query: str = "", include_guests: bool = True, limit: int = 500) -> list[User]:
    stmt = select(User).order_by(User.display_name).limit(limit)
    query = clean_query(query)
    if query:
        like = like_pattern(query)
        stmt = stmt.where(func.lower(User.display_name).like(like, escape="\\") | User.email.like(like, escape="\\"))
    if not include_guests:
        stmt = stmt.where(User.role != OrgRole.GUEST)
    return list((await db.execute(stmt)).scalars())


async def find_by_email(db: AsyncSession, email: str) -> User:
    """A user of the session's organisation by the address someone typed; an unknown one is
    a mistake in the form (Invalid), not a missing page."""
    email = normalise_email(email)
    user = (await db.execute(select(User).where(User.email == email))).scalar_one_or_none()
    if user is None:
        raise Invalid(_("Nobody in the organisation has the address %(email)s.", email=email))
    return user


async def memberships(db: AsyncSession, user_id: uuid.UUID) -> tuple[list[tuple[Space, str]], list[Group]]:
    """The spaces (with the role in each) and the groups a user belongs to."""
    spaces = await db.execute(
        select(Space, SpaceMember.role)
        .join(SpaceMember, SpaceMember.space_id == Space.id)
        .where(SpaceMember.user_id == user_id)
        .order_by(Space.name)
    )
    groups = await db.execute(
        select(Group)
        .join(GroupMember, GroupMember.group_id == Group.id)
        .where(GroupMember.user_id == user_id)
        .order_by(Group.name)
    )
    return [(space, role) for space, role in spaces.all()], list(groups.scalars())


async def set_role(db: AsyncSession, actor: Principal, user_id: uuid.UUID, role: str) -> User:
    """Make a member an admin or a plain user. Admins cannot change their own role, so an
    organisation always keeps at least the admin who is acting."""
    require_admin(actor)
    user = await get_user(db, user_id)
    if role not in ASSIGNABLE_ROLES:
        raise Invalid(_("Unknown role."))
    if user.is_guest:
        raise Invalid(_("A guest stays a guest: invite them with an address of the organisation instead."))
    if user.id == actor.user_id:
        raise Invalid(_("You cannot change your own role."))
    before = user.role
    user.role = role
    audit.record(
        db,
        "user.role_changed",
        org_id=actor.org_id,
        actor=actor,
        target_type="user",
        target_id=user.id,
        target_label=user.email,
        details={"before": before, "after": role},
    )
    return user


async def set_active(db: AsyncSession, actor: Principal, user_id: uuid.UUID, active: bool) -> User:
    user = await get_user(db, user_id)
    if user.id == actor.user_id and not active:
        raise Invalid(_("You cannot disable your own account."))
    policy.require(actor, user, "disable", _("Only the organisation's administrators can do this."))
    user.is_active = active
    if not active:
        await auth.revoke_all_sessions(db, user.id)
    audit.record(
        db,
        "user.enabled" if active else "user.disabled",
        org_id=actor.org_id,
        actor=actor,
        target_type="user",
        target_id=user.id,
        target_label=user.email,
    )
    return user


async def reset_mfa(db: AsyncSession, actor: Principal, user_id: uuid.UUID) -> User:
    user = await get_user(db, user_id)
    policy.require(actor, user, "reset_mfa", _("Only the organisation's administrators can do this."))
    user.totp_secret = None
    user.totp_enabled_at = None
    await db.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    await auth.revoke_all_sessions(db, user.id)
    audit.record(
        db,
        "user.mfa_reset",
        org_id=actor.org_id,
        actor=actor,
        target_type="user",
        target_id=user.id,
        target_label=user.email,
    )
    return user


async def update_profile(db: AsyncSession, principal: Principal, *, display_name: str, locale: str) -> User:
    user = await get_user(db, principal.user_id)
    display_name = display_name.strip()
    if not display_name or len(display_name) > 200:
        raise Invalid(_("A name of at most 200 characters is required."))
    if locale not in LANGUAGES:
        raise Invalid(_("Unknown language."))
    user.display_name = display_name
    user.locale = locale
    return user


async def set_locale(db: AsyncSession, principal: Principal, locale: str) -> None:
    user = await get_user(db, principal.user_id)
    user.locale = locale if locale in LANGUAGES else None


@dataclass
class ImportReport:
    created: list[tuple[str, str]]  # (email, generated password)
    errors: list[tuple[int, str]]  # (line number, message)


async def import_csv(db: AsyncSession, actor: Principal, data: bytes) -> ImportReport:
    """Columns ``email,name[,role]`` with a header row. Each valid line is created; each
    invalid one is reported with its line number and nothing of it is written."""
    require_admin(actor)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise Invalid(_("The file must be UTF-8 encoded CSV.")) from None
    try:
        reader = csv.DictReader(io.StringIO(text))
        if not reader.fieldnames or not {"email", "name"} <= {f.strip().lower() for f in reader.fieldnames}:
            raise Invalid(_("The first line must name the columns: email,name[,role]."))
        rows = list(reader)
    except csv.Error as exc:
        raise Invalid(_("The file is not valid CSV: %(reason)s.", reason=str(exc)[:200])) from None
    if len(rows) > MAX_IMPORT_LINES:
        raise Invalid(_("At most %(n)s people per import: split the file.", n=MAX_IMPORT_LINES))
    # The import's own audit entry is written first, on purpose: on SQLite it makes the
    # transaction a writing one before any per-line savepoint reads, so that another
    # writer (the job worker) cannot make a line's insert fail with "database is locked".
    entry = audit.record(
        db,
        "user.imported",
        org_id=actor.org_id,
        actor=actor,
        target_type="organisation",
        target_id=actor.org_id,
        target_label=actor.org_name,
    )
    await db.flush()
    report = ImportReport(created=[], errors=[])
    for number, row in enumerate(rows, start=2):
        fields = {(k or "").strip().lower(): (v or "").strip() for k, v in row.items() if isinstance(v, str)}
        role = fields.get("role") or OrgRole.USER
        if role not in (OrgRole.ADMIN, OrgRole.USER):
            report.errors.append((number, _("Unknown role.")))
            continue
        try:
            async with db.begin_nested():
                user, password = await create_user(
                    db,
                    org_id=actor.org_id,
                    email=fields.get("email", ""),
                    display_name=fields.get("name", ""),
                    password=None,
                    role=OrgRole(role),
                    actor=actor,
                )
            report.created.append((user.email, password or ""))
        except (Invalid, Conflict, Forbidden) as exc:
            report.errors.append((number, exc.message))
    entry.details = {"created": len(report.created), "refused": len(report.errors)}
    return report
