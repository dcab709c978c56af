"""The session kit of core.db: the memo that lives while what a session read stays true,
and the identifiers SQLite gives back."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select, update

from hexagone.core.db import _uuid_of_hex, org_session, session_memo
from hexagone.core.models import Notification
from hexagone.identity.models import User
from tests.factories import make_org, make_user

pytestmark = pytest.mark.usefixtures("migrated")


async def test_session_memo_reads_keep_it() -> None:
    org = await make_org()
    async with org_session(org.id) as db:
        session_memo(db, "probe")["k"] = 1
        await db.execute(select(Notification))
        assert session_memo(db, "probe") == {"k": 1}


async def test_session_memo_an_orm_flush_empties_it() -> None:
    org = await make_org()
    user = await make_user(org)
    async with org_session(org.id, write=True) as db:
        session_memo(db, "probe")["k"] = 1
        db.add(Notification(user_id=user.id, module="core", title="t"))
        await db.flush()
        assert session_memo(db, "probe") == {}


async def test_session_memo_a_statement_that_writes_empties_it() -> None:
    org = await make_org()
    async with org_session(org.id, write=True) as db:
        session_memo(db, "probe")["k"] = 1
        await db.execute(update(Notification).where(Notification.module == "none").values(title="x"))
        assert session_memo(db, "probe") == {}


@pytest.mark.parametrize("end", ["commit", "rollback"])
async def test_session_memo_the_end_of_the_transaction_empties_it(end: str) -> None:
    org = await make_org()
    async with org_session(org.id, write=True) as db:
        await db.execute(select(Notification))
        session_memo(db, "probe")["k"] = 1
        await getattr(db, end)()
        assert session_memo(db, "probe") == {}


async def test_session_memo_is_one_per_session_and_per_name() -> None:
    org = await make_org()
    async with org_session(org.id) as one, org_session(org.id) as other:
        session_memo(one, "probe")["k"] = 1
        assert session_memo(other, "probe") == {} and session_memo(one, "another") == {}


def test_uuid_of_hex_equals_the_parsed_uuid_in_every_way() -> None:
    made = uuid.uuid4()
    read = _uuid_of_hex(made.hex)
    assert read == made and hash(read) == hash(made) and str(read) == str(made)
    assert read.version == 4 and read.is_safe is uuid.SafeUUID.unknown
    assert _uuid_of_hex(str(made)) == made and _uuid_of_hex(None) is None


async def test_uuid_column_reads_back_the_identifier_written() -> None:
    org = await make_org()
    user = await make_user(org)
    async with org_session(org.id) as db:
        read = (await db.execute(select(User.id).where(User.email == user.email))).scalar_one()
        assert isinstance(read, uuid.UUID) and read == user.id
