"""Helpers for the admin console and spaces tests: a signed-in client per role, and form
posts that carry the CSRF token the way the pages do."""

from __future__ import annotations

import re
from typing import Any

import httpx
from sqlalchemy import select

from hexagone.core.db import system_session
from hexagone.core.models import AuditEntry
from hexagone.identity.models import User
from tests.factories import CSRF_RE, TestOrg, TestUser, emailed, login, make_org, make_user

LINK_RE = re.compile(r"https?://\S+/(?:password/reset|invitation)/(\S+)")


async def signed_in(
    client: httpx.AsyncClient, role: str = "admin", org: TestOrg | None = None
) -> tuple[TestOrg, TestUser]:
    """A new organisation (unless given) and a user of ``role`` in it, signed in on ``client``."""
    org = org or await make_org()
    user = await make_user(org, role=role)
    await login(client, user)
    return org, user


async def page_token(client: httpx.AsyncClient) -> str:
    """The CSRF token a page gives this client (signed in or not)."""
    response = await client.get("/account")
    if response.status_code != 200:
        response = await client.get("/login")
    found = CSRF_RE.search(response.text)
    assert found, response.text[:300]
    return found.group(1)


async def post(
    client: httpx.AsyncClient, path: str, data: dict[str, Any] | None = None, files: dict[str, Any] | None = None
) -> httpx.Response:
    """POST a form as the browser does, with the CSRF token of the page (a list value
    sends the field several times, as checkboxes do)."""
    return await client.post(path, data={**(data or {}), "csrf_token": await page_token(client)}, files=files)


async def api_headers(client: httpx.AsyncClient) -> dict[str, str]:
    """The header an API call with the session cookie must carry for unsafe methods."""
    return {"X-CSRF-Token": await page_token(client)}


async def last_link_token(email: str) -> str:
    """The token of the last e-mailed link (reset or invitation) to ``email``."""
    return await emailed(email, LINK_RE)


async def user_by_email(email: str) -> User:
    async with system_session() as db:
        return (await db.execute(select(User).where(User.email == email))).scalar_one()


async def audited(action: str, target_label: str) -> bool:
    """Whether the audit log holds an entry ``action`` on ``target_label``."""
    async with system_session() as db:
        rows = await db.execute(
            select(AuditEntry.id).where(AuditEntry.action == action, AuditEntry.target_label == target_label)
        )
        return rows.first() is not None
