"""Helpers for the mail admin tests: an organisation that subscribes to mail with a
signed-in admin, and the shapes the pages are read in."""

from __future__ import annotations

import httpx

from tests.admin.factories_admin import signed_in
from tests.factories import TestOrg, TestUser
from tests.mail.factories import make_mail_org


async def mail_admin(
    client: httpx.AsyncClient, role: str = "admin", org: TestOrg | None = None
) -> tuple[TestOrg, TestUser]:
    """A new organisation that subscribes to mail (unless given), with a user of
    ``role`` signed in on ``client``."""
    return await signed_in(client, role, org or await make_mail_org())
