"""Password login for every way in (web, IMAP, SMTP), slowed down against brute force and
audited. The second factor is checked separately (:mod:`.mfa`).

Brute force is slowed, never turned into a lockout that anyone could trigger against
anyone (the model of Keycloak's brute-force detection and Dovecot's auth penalty):

- an address that failed ``login_max_failures_per_account_and_ip`` times for an account
  is refused for that account, and one that failed ``login_max_failures_per_ip`` times
  (any accounts) is refused for all but its known devices, until the failures leave the
  window: the right password from elsewhere still opens the account;
- once an account has failed ``login_slowdown_after_failures`` times from all addresses,
  each attempt from an unknown device waits before it is checked, twice as long at each
  further failure, up to ``login_max_delay_seconds``;
- a known device (an address the account signed in from within
  ``login_known_device_days``, or a browser holding a valid session of the account) is
  neither slowed down by failures from elsewhere nor refused for other accounts' failures.

A refused attempt is not checked, so it tells nothing; it is audited as
``auth.login_throttled``. Every refusal costs one argon2 verification, also for an
address nobody has, so that the time of the answer does not tell which accounts exist.

A protocol sign-in that succeeds is remembered for a while (:mod:`.verified`): the same
password for the same account then opens it without another argon2 verification, after
the same throttling, and with the same audit. A web sign-in always verifies.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, bindparam, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hexagone.core import audit, auth
from hexagone.core.config import Settings
from hexagone.core.db import utcnow
from hexagone.core.exceptions import Invalid, RateLimited
from hexagone.core.i18n import gettext as _
from hexagone.core.models import AuditEntry
from hexagone.core.security import hash_password, password_needs_rehash, verify_password
from hexagone.identity.models import Organisation, OrgRole, User
from hexagone.identity.service import verified
from hexagone.identity.service.directory import Person, as_person

# A protocol login is remembered (as an ``auth.login`` entry) at most this often per
# address: mail clients sign in many times a day.
KNOWN_DEVICE_REFRESH = timedelta(days=1)


@dataclass
class LoginResult:
    session_token: str
    user: User
    needs_second_factor: bool


def clean_email(email: str) -> str:
    return email.strip().lower()[:320]


def _within(moment: datetime | None, span: timedelta) -> bool:
    return moment is not None and utcnow() - moment < span


def slowdown_seconds(settings: Settings, account_failures: int) -> float:
    """The wait of an unknown device once the account has failed this often (anywhere)."""
    excess = account_failures - settings.login_slowdown_after_failures
    if excess < 0:
        return 0.0
    return min(2.0 ** min(excess, 32), settings.login_max_delay_seconds)


async def throttle(
    db: AsyncSession,
    settings: Settings,
    *,
    user: User | None,
    email: str,
    ip: str,
    channel: str,
    known_session: bool = False,
) -> datetime | None:
    """Before any secret is checked: refuse this attempt (RateLimited, audited) or make it
    wait, by the rules in the module's docstring. ``known_session``: the browser holds a
    valid session of this account. Commits before a wait or a refusal.
    Returns when the account last signed in from this address, which
    :func:`remember_device` needs too (read once per attempt)."""
    window = timedelta(seconds=settings.login_failure_window_seconds)
    last_login, failures_here = await _history_here(db, email=email, ip=ip, since=utcnow() - window)
    known = known_session or _within(last_login, timedelta(days=settings.login_known_device_days))
    refusal = None
    if failures_here >= settings.login_max_failures_per_account_and_ip:
        refusal = "account_and_ip", _("Too many failed attempts for this account. Wait a few minutes and try again.")
    elif not known and await audit.recent_failures(db, window=window, ip=ip) >= settings.login_max_failures_per_ip:
        refusal = "ip", _("Too many failed attempts from your address. Wait a few minutes and try again.")
    if refusal is not None:
        limit, message = refusal
        _record(db, audit.LOGIN_THROTTLED, user, email=email, ip=ip, details={"channel": channel, "limit": limit})
        await db.commit()
        raise RateLimited(message)
    delay = 0.0 if known else slowdown_seconds(settings, await audit.recent_failures(db, window=window, account=email))
    if delay:
        await db.commit()  # the wait holds no database connection
        await asyncio.sleep(delay)
    return last_login


# Statements of every sign-in, built once (building one costs more than running it):
# the account's latest sign-in from an address, and its failures from there since a moment.
_HISTORY_HERE = select(
    func.max(case((AuditEntry.action == audit.LOGIN, AuditEntry.created_at))),
    func.count(
        case(
            (and_(AuditEntry.action == audit.LOGIN_FAILED, AuditEntry.created_at >= bindparam("since")), AuditEntry.id)
        )
    ),
).where(
    AuditEntry.target_label == bindparam("email"),
    AuditEntry.ip == bindparam("ip"),
    AuditEntry.action.in_((audit.LOGIN, audit.LOGIN_FAILED)),
)
# A member with the modules their organisation subscribes to.
_MEMBER = (
    select(User, Organisation.modules)
    .join(Organisation, Organisation.id == User.org_id)
    .where(User.email == bindparam("email"))
)


async def _history_here(db: AsyncSession, *, email: str, ip: str, since: datetime) -> tuple[datetime | None, int]:
    """What :func:`audit.last_login` and :func:`audit.recent_failures` answer for this
    account and address (its latest sign-in from there, its failures from there since
    ``since``), in one query: a mail client signs in many times a day."""
    last_login, failures = (await db.execute(_HISTORY_HERE, {"email": email, "ip": ip, "since": since})).one()
    return last_login, int(failures)


async def password_matches(user: User | None, password: str) -> bool:
    """One argon2 verification, against a dummy hash when there is no user. argon2
    releases the GIL: in a thread, a login does not freeze the worker's other requests."""
    return await asyncio.to_thread(verify_password, user.password_hash if user else None, password)


async def password_verified(settings: Settings, user: User, password: str) -> bool:
    """:func:`password_matches` for an account that a right password opens: the password
    is then re-hashed if its hash is due, and remembered in :mod:`.verified` (under the
    hash it now has), so that the next protocol sign-ins with it skip the verification
    until the entry expires."""
    if not await password_matches(user, password):
        return False
    await upgrade_hash(user, password)
    await verified.cache(settings).remember(user.id, user.password_hash, password)
    return True


async def upgrade_hash(user: User, password: str) -> None:
    """Re-hash a right password made with other argon2 parameters (in a thread, as a
    verification)."""
    if password_needs_rehash(user.password_hash):
        user.password_hash = await asyncio.to_thread(hash_password, password)


def _record(db: AsyncSession, action: str, user: User | None, *, email: str, ip: str, details: dict[str, str]) -> None:
    audit.record(
        db,
        action,
        org_id=user.org_id if user else None,
        actor_label=email,
        target_type="user",
        target_id=user.id if user else "",
        target_label=email,
        ip=ip,
        details=details,
    )


async def record_failure(
    db: AsyncSession, user: User | None, *, email: str, ip: str, channel: str, reason: str
) -> None:
    """Audit a failed attempt (it counts towards the limits) and commit it."""
    _record(db, audit.LOGIN_FAILED, user, email=email, ip=ip, details={"channel": channel, "reason": reason})
    await db.commit()


async def refuse(db: AsyncSession, user: User | None, *, email: str, ip: str, channel: str, reason: str) -> Invalid:
    """Record the failure; the one error every failed sign-in gets, whatever the reason."""
    await record_failure(db, user, email=email, ip=ip, channel=channel, reason=reason)
    return Invalid(_("Wrong e-mail address or password."))


async def remember_device(db: AsyncSession, user: User, *, ip: str, channel: str, last_login: datetime | None) -> None:
    """Audit a successful sign-in (``auth.login``), which makes the address a known device
    of the user: every web sign-in, a protocol one at most once a day per address
    (``last_login``: what :func:`throttle` returned)."""
    if channel != "web" and _within(last_login, KNOWN_DEVICE_REFRESH):
        return
    _record(db, audit.LOGIN, user, email=user.email, ip=ip, details={"channel": channel})


async def verify_credentials(
    db: AsyncSession,
    settings: Settings,
    *,
    email: str,
    password: str,
    ip: str,
    channel: str,
    session_user_id: uuid.UUID | None = None,
) -> User:
    """The active user whose password this is, or Invalid / RateLimited (audited).

    ``channel`` names the way in (``web``, ``imap``, ``smtp``…) in the audit entry, so the
    same rules and the same counters protect every protocol that takes a password.
    ``session_user_id``: the user of a valid session the browser already holds.
    """
    email = clean_email(email)
    user = (await db.execute(select(User).where(User.email == email))).scalar_one_or_none()
    last_login = await throttle(
        db,
        settings,
        user=user,
        email=email,
        ip=ip,
        channel=channel,
        known_session=user is not None and user.id == session_user_id,
    )
    ok = await password_matches(user, password)
    if user is None or not ok or not user.is_active:
        raise await refuse(
            db, user, email=email, ip=ip, channel=channel, reason="disabled" if user and ok else "bad_credentials"
        )
    await upgrade_hash(user, password)
    await remember_device(db, user, ip=ip, channel=channel, last_login=last_login)
    return user


def _module_refusal(user: User | None, modules: list[str] | None, module: str) -> str:
    """Why this account cannot use ``module`` whatever the password, or "" (``modules``:
    those its organisation subscribes to)."""
    if user is None or modules is None or not user.is_active:
        return "bad_credentials"
    if user.role == OrgRole.GUEST or module not in modules:
        return "no_access"
    return ""


async def verify_module_credentials(
    db: AsyncSession,
    settings: Settings,
    *,
    email: str,
    password: str,
    ip: str,
    channel: str,
    module: str,
    app_password: Callable[[uuid.UUID, str], Awaitable[bool]],
) -> Person:
    """The member whose password (or, through ``app_password``, a secret the module made
    for one client) opens ``module`` over ``channel``, or Invalid / RateLimited (audited).

    Protocol clients (IMAP, SMTP…) cannot ask for a TOTP code: an account with MFA signs
    in only with an app password. Every refusal costs one argon2 verification, also for an
    unknown address, a guest or an account that needs an app password: the time of the
    answer tells nothing. A password that opened the account within
    ``login_cache_seconds`` is not verified again (:mod:`.verified`). The caller commits.
    """
    email = clean_email(email)
    found = (await db.execute(_MEMBER, {"email": email})).one_or_none()
    user, modules = (found[0], found[1] or []) if found is not None else (None, None)
    last_login = await throttle(db, settings, user=user, email=email, ip=ip, channel=channel)
    reason = _module_refusal(user, modules, module)
    if user is not None and not reason:
        remembered = not user.mfa_enabled and await verified.cache(settings).seen(user.id, user.password_hash, password)
        if remembered or await app_password(user.id, password):
            await remember_device(db, user, ip=ip, channel=channel, last_login=last_login)
            return as_person(user)
        if user.mfa_enabled:
            reason = "app_password_required"
    if user is None or reason:
        # Refused whatever the password: verified all the same (never answered from the
        # cache, which would answer a right password faster), so that the time tells nothing.
        await password_matches(user, password)
        raise await refuse(db, user, email=email, ip=ip, channel=channel, reason=reason or "bad_credentials")
    if not await password_verified(settings, user, password):
        raise await refuse(db, user, email=email, ip=ip, channel=channel, reason="bad_credentials")
    await remember_device(db, user, ip=ip, channel=channel, last_login=last_login)
    return as_person(user)


async def login(
    db: AsyncSession,
    settings: Settings,
    *,
    email: str,
    password: str,
    ip: str,
    user_agent: str,
    current_token: str = "",
) -> LoginResult:
    """A web sign-in. ``current_token``: the session cookie the browser already carries;
    a successful sign-in revokes that session (whoever's it was), so that signing in again
    never leaves an earlier session of the same browser alive."""
    session_user_id = await auth.live_session_user(db, current_token)
    user = await verify_credentials(
        db, settings, email=email, password=password, ip=ip, channel="web", session_user_id=session_user_id
    )
    org = await db.get(Organisation, user.org_id)
    assert org is not None
    user.last_login_at = utcnow()
    await auth.revoke_session_token(db, current_token)
    token, _row = await auth.open_session(
        db,
        user_id=user.id,
        org_id=user.org_id,
        max_age=settings.session_max_age_seconds,
        mfa_verified=not user.mfa_enabled,
        ip=ip,
        user_agent=user_agent,
    )
    await db.commit()
    return LoginResult(session_token=token, user=user, needs_second_factor=user.mfa_enabled)
