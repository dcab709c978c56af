"""Factories: real rows through the real service layer, with unique names per call."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field, replace

import httpx
import pyotp
from sqlalchemy import select

from hexagone.core.auth import Principal
from hexagone.core.db import org_session, system_session, utcnow
from hexagone.core.jobs import Claimed, Job
from hexagone.core.models import OutboxMessage
from hexagone.identity.models import OrgRole, SpaceRole, User
from hexagone.identity.service import orgs, spaces, users
from hexagone.identity.service.principals import load_principal

DEFAULT_PASSWORD = "Correct-horse-battery-9"
CSRF_RE = re.compile(r'data-csrf="([0-9a-f]+)"')


@dataclass
class TestOrg:
    __test__ = False

    id: uuid.UUID
    name: str
    domain: str


@dataclass(eq=False)  # hashable by identity: users are dict keys in make_space(members=…)
class TestUser:
    __test__ = False

    id: uuid.UUID
    org_id: uuid.UUID
    email: str
    password: str
    role: str
    totp_secret: str | None = None

    def totp(self) -> str:
        assert self.totp_secret
        return pyotp.TOTP(self.totp_secret).now()


@dataclass
class TestSpace:
    __test__ = False

    id: uuid.UUID
    org_id: uuid.UUID
    name: str
    members: dict[str, str] = field(default_factory=dict)


def unique(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:10]}"


async def make_org(
    *, name: str | None = None, modules: tuple[str, ...] = ("sample",), mfa_required: bool = False
) -> TestOrg:
    domain = f"{unique('org')}.test"
    async with system_session() as db:
        org = await orgs.create_org(db, name=name or unique("Org "), domain=domain, modules=list(modules))
        org.mfa_required = mfa_required
        await db.commit()
        return TestOrg(id=org.id, name=org.name, domain=domain)


async def make_user(
    org: TestOrg,
    *,
    role: str = OrgRole.USER,
    password: str = DEFAULT_PASSWORD,
    mfa: bool = False,
    email: str | None = None,
) -> TestUser:
    if email is None:
        email = f"{unique('user')}@{org.domain}" if role != OrgRole.GUEST else f"{unique('guest')}@outside.test"
    async with system_session() as db:
        user, _generated = await users.create_user(
            db, org_id=org.id, email=email, display_name=email.split("@")[0], password=password, role=OrgRole(role)
        )
        secret = None
        if mfa:
            secret = pyotp.random_base32()
            user.totp_secret = secret
            user.totp_enabled_at = utcnow()
        await db.commit()
        return TestUser(id=user.id, org_id=org.id, email=user.email, password=password, role=role, totp_secret=secret)


async def principal(user: TestUser) -> Principal:
    async with system_session() as db:
        found = await load_principal(db, user.id)
        assert found is not None
        return found


async def make_space(
    owner: TestUser, *, members: dict[TestUser, str] | None = None, name: str | None = None
) -> TestSpace:
    actor = await principal(owner)
    async with org_session(owner.org_id) as db:
        space = await spaces.create_space(db, actor, name=name or unique("Space "))
        actor = replace(actor, space_roles={**actor.space_roles, space.id: SpaceRole.OWNER})  # now its owner
        for member, role in (members or {}).items():
            await spaces.add_member(db, actor, space, member.id, role)
        await db.commit()
        return TestSpace(
            id=space.id,
            org_id=space.org_id,
            name=space.name,
            members={owner.email: SpaceRole.OWNER, **{m.email: r for m, r in (members or {}).items()}},
        )


async def csrf_token(client: httpx.AsyncClient, path: str = "/login") -> str:
    response = await client.get(path)
    found = CSRF_RE.search(response.text)
    assert found, f"no CSRF token on {path} ({response.status_code})"
    return found.group(1)


async def login(client: httpx.AsyncClient, user: TestUser, *, second_factor: bool = True) -> httpx.Response:
    """Sign in through the real form; with MFA, also through the second-factor form."""
    token = await csrf_token(client)
    response = await client.post(
        "/login", data={"email": user.email, "password": user.password, "csrf_token": token, "next": "/"}
    )
    assert response.status_code == 303, response.text[:500]
    if response.headers["location"].startswith("/login/mfa") and second_factor:
        token = await csrf_token(client, "/login/mfa")
        response = await client.post("/login/mfa", data={"code": user.totp(), "csrf_token": token, "next": "/"})
        assert response.status_code == 303, response.text[:500]
    return response


async def outbox_for(email: str) -> list[OutboxMessage]:
    async with system_session() as db:
        rows = await db.execute(
            select(OutboxMessage).where(OutboxMessage.recipient == email).order_by(OutboxMessage.created_at)
        )
        return list(rows.scalars())


async def emailed(email: str, pattern: re.Pattern[str]) -> str:
    """The first group of ``pattern`` in the latest message queued for ``email`` (a reset
    or invitation link, or its token)."""
    messages = await outbox_for(email)
    assert messages, f"no message queued for {email}"
    found = pattern.search(messages[-1].body)
    assert found, messages[-1].body
    return found.group(1)


async def get_user_row(user_id: uuid.UUID) -> User:
    async with system_session() as db:
        row = await db.get(User, user_id)
        assert row is not None
        return row


async def set_password_hash(user_id: uuid.UUID, password_hash: str) -> None:
    """Store a hash made elsewhere (older parameters, say) as the user's password hash."""
    async with system_session() as db:
        row = await db.get(User, user_id)
        assert row is not None
        row.password_hash = password_hash
        await db.commit()


def shell_badge(response: httpx.Response, element: str) -> str:
    """The text of one count in the shell's badges fragment (``/shell/badges``): its
    number, or "" when the element is there but shows none."""
    found = re.search(rf'<span id="{element}" hx-swap-oob="innerHTML">(.*?)</span>\n', response.text, re.S)
    assert found is not None, f"no {element} in {response.text!r}"
    count = re.search(r'<span class="badge">(\d+)', found.group(1))
    return count.group(1) if count else ""


async def queued(org_id: uuid.UUID, kind: str) -> list[Claimed]:
    """The organisation's jobs of ``kind`` waiting in the queue, as a worker would be
    handed them (first attempt): for a test to run a job's handler itself."""
    async with org_session(org_id) as db:
        found = (await db.execute(select(Job).where(Job.kind == kind, Job.org_id == org_id))).scalars()
        return [Claimed(job.id, job.kind, job.org_id, job.payload, 1, 5) for job in found]
