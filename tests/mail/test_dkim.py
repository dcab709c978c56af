"""A domain's DKIM key is made once, however many first messages ask for it at once, and
read without a write transaction afterwards."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import event, select

from hexagone.core.db import engines, system_session
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
        return await dkim.key_for(org.id, org.domain.upper() + ".")  # as outbound.submit asks

    keys = await asyncio.gather(*(first_send() for _ in range(REQUESTS)))
    async with system_session() as db:
        [stored] = (await db.execute(select(DkimKey).where(DkimKey.domain == org.domain))).scalars()
    assert {key.id for key in keys} == {stored.id} and stored.org_id == org.id
    assert {key.public_key_b64 for key in keys} == {stored.public_key_b64}


async def test_key_for_a_domain_with_a_key_reads_it_without_writing() -> None:
    org = await make_mail_org()
    first = await dkim.key_for(org.id, org.domain)
    writes: list[str] = []

    def record(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        if not statement.lstrip().upper().startswith("SELECT"):
            writes.append(statement)

    for engine in engines():
        event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        again = await dkim.key_for(org.id, org.domain.upper())
    finally:
        for engine in engines():
            event.remove(engine.sync_engine, "before_cursor_execute", record)

    assert again.id == first.id and writes == []
