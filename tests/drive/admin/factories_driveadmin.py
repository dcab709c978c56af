"""Helpers for the drive admin tests: an organisation that subscribes to the drive with a
signed-in admin, and a member whose drive exists."""

from __future__ import annotations

import httpx

from hexagone.core.auth import Principal
from hexagone.drive.service import DriveInfo
from tests.admin.factories_admin import signed_in
from tests.drive.factories import make_drive_org, make_member, own_drive
from tests.factories import TestOrg, TestUser


async def drive_admin(
    client: httpx.AsyncClient, role: str = "admin", org: TestOrg | None = None
) -> tuple[TestOrg, TestUser]:
    """A new organisation that subscribes to the drive (unless given), with a user of
    ``role`` signed in on ``client``."""
    return await signed_in(client, role, org or await make_drive_org())


async def member_with_drive(org: TestOrg) -> tuple[Principal, DriveInfo]:
    """A plain member of ``org`` and their drive, made."""
    _user, member = await make_member(org)
    return member, await own_drive(member)
