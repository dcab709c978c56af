"""Mail's write sessions take turns in the process on SQLite (mail/service/writers.py)."""

from __future__ import annotations

import asyncio
import itertools
import time
from functools import partial

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from hexagone.core.config import get_settings
from hexagone.core.db import system_session
from hexagone.core.exceptions import Invalid
from hexagone.mail.models import Mailbox
from hexagone.mail.service import writers
from tests.mail.factories import folder_of, make_mail_user

pytestmark = pytest.mark.usefixtures("migrated")


async def test_writers_concurrent_write_sessions_all_commit_and_on_sqlite_never_overlap() -> None:
    user = await make_mail_user()
    await folder_of(user)  # the mailbox exists from first use
    spans: list[tuple[float, float]] = []

    async def write(index: int) -> None:
        async with writers.write_session(user.org_id) as db:
            start = time.monotonic()  # the session is open: on SQLite, no other writer's is
            await db.execute(
                update(Mailbox).where(Mailbox.user_id == user.id).values(used_bytes=Mailbox.used_bytes + 1)
            )
            await asyncio.sleep(0.01)  # other writers are waiting meanwhile
            await db.commit()
            spans.append((start, time.monotonic()))

    await asyncio.gather(*(write(i) for i in range(10)))
    async with system_session() as db:
        used = (await db.execute(select(Mailbox.used_bytes).where(Mailbox.user_id == user.id))).scalar_one()
    assert used == 10
    if get_settings().resolved_database_url.startswith("sqlite"):
        spans.sort()
        assert all(end <= next_start for (_, end), (next_start, _) in itertools.pairwise(spans))


async def test_writers_run_works_share_a_transaction_and_a_failing_one_fails_alone() -> None:
    user = await make_mail_user()
    await folder_of(user)

    async def add(db: AsyncSession, amount: int) -> int:
        await db.execute(
            update(Mailbox).where(Mailbox.user_id == user.id).values(used_bytes=Mailbox.used_bytes + amount)
        )
        if amount == 0:
            raise Invalid("refused")
        return amount

    outcomes = await asyncio.gather(
        *(writers.run(user.org_id, partial(add, amount=amount)) for amount in (1, 2, 0, 4)), return_exceptions=True
    )
    assert outcomes[:2] == [1, 2] and outcomes[3] == 4
    assert isinstance(outcomes[2], Invalid)
    async with system_session() as db:
        used = (await db.execute(select(Mailbox.used_bytes).where(Mailbox.user_id == user.id))).scalar_one()
    assert used == 7  # the failing work's change is gone, the others' are there once
