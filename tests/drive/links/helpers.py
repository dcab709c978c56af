"""What the tests of links and previews share: a folder to drop files into, and the
answer a page gives a session that still owes its second factor."""

from __future__ import annotations

import httpx

from hexagone.core.auth import Principal
from hexagone.core.db import org_session
from hexagone.drive import service
from tests.drive.factories import own_drive, put
from tests.factories import TestOrg, login, make_user


async def drop_box(me: Principal) -> tuple[service.DriveInfo, service.NodeInfo]:
    """The member's drive and a folder "Dépôt" in it, which already holds their "cv.pdf"."""
    drive = await own_drive(me)
    async with org_session(me.org_id, write=True) as db:
        box = await service.create_folder(db, me, drive.root_id, "Dépôt")
        await db.commit()
    await put(me, box.id, "cv.pdf", b"mine")
    return drive, box


async def answer_to_pending_second_factor(base_url: str, org: TestOrg, path: str) -> httpx.Response:
    """What ``path`` answers a member of ``org`` who signed in without their second factor."""
    user = await make_user(org, mfa=True)
    async with httpx.AsyncClient(base_url=base_url, follow_redirects=False, timeout=30) as browser:
        await login(browser, user, second_factor=False)
        return await browser.get(path)
