"""What the drive API tests share: a member of a drive organisation with an access token
from our provider, and the API's address."""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from hexagone.core.auth import Principal
from hexagone.drive.service import DriveInfo
from tests.drive.factories import make_drive_org, make_member, own_drive
from tests.factories import TestOrg, TestUser, csrf_token, login
from tests.mail.api.helpers import token_for
from tests.oidc.factories_oidc import bearer

API = "/api/v1/drive"


@dataclass
class Caller:
    user: TestUser
    me: Principal
    drive: DriveInfo
    headers: dict[str, str]


async def caller(base_url: str, org: TestOrg | None = None, role: str = "user") -> Caller:
    """A member with their drive and the headers of a bearer token of theirs; a guest,
    to whom our provider gives no token, has no drive and calls with their session."""
    user, me = await make_member(org or await make_drive_org(), role=role)
    if role == "guest":
        return Caller(user, me, None, await session_headers(base_url, user))  # type: ignore[arg-type]
    return Caller(user, me, await own_drive(me), bearer(await token_for(base_url, user)))


async def session_headers(base_url: str, user: TestUser) -> dict[str, str]:
    """The cookie of a signed-in session and its CSRF header, for any client."""
    async with httpx.AsyncClient(base_url=base_url, follow_redirects=False, timeout=30) as browser:
        await login(browser, user)
        token = await csrf_token(browser, "/")
        cookie = "; ".join(f"{c.name}={c.value}" for c in browser.cookies.jar)
    return {"Cookie": cookie, "X-CSRF-Token": token}
