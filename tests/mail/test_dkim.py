"""A domain's DKIM key is made once, however many first messages ask for it at once."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select

from hexagone.core.db import org_session, system_session
from hexagone.mail.models import DkimKey
from hexagone.mail.service import dkim
from tests.mail.factories import make_mail_org

pytestmark = pytest.mark.usefixtures("migrated")

REQUESTS = 6


async def test_signing_key_asked_at_once_for_a_new_domain_makes_one_key() -> None:
    org = await make_mail_org()
    barrier = asyncio.Barrier(REQUESTS)

    async def first_send() -> DkimKey:
        await barrier.wait()
        async with org_session(org.id, write=True) as db:  # as outbound.submit asks
            key = await dkim.signing_key(db, org.id, org.domain.upper() + ".")
            await db.commit()
            return key

    keys = await asyncio.gather(*(first_send() for _ in range(REQUESTS)))
    async with system_session() as db:
        [stored] = (await db.execute(select(DkimKey).where(DkimKey.domain == org.domain))).scalars()
    assert {key.id for key in keys} == {stored.id} and stored.org_id == org.id
    assert {key.public_key_b64 for key in keys} == {stored.public_key_b64}
