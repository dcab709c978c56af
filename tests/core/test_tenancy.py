"""The scoping layer: a session opened for one organisation cannot read or write another's rows."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from hexagone.core.db import org_session
from hexagone.core.tenancy import CrossOrganisationWrite
from hexagone.identity.models import Space, SpaceMember, User
from tests.factories import make_org, make_space, make_user

pytestmark = pytest.mark.usefixtures("migrated")  # the tests use the database, not a server


async def test_org_session_queries_only_see_their_organisation() -> None:
    org_a, org_b = await make_org(), await make_org()
    alice, bob = await make_user(org_a), await make_user(org_b)
    await make_space(alice)
    await make_space(bob)
    async with org_session(org_a.id) as db:
        emails = set((await db.execute(select(User.email))).scalars())
        spaces = (await db.execute(select(Space))).scalars().all()
        assert alice.email in emails and bob.email not in emails
        assert {s.org_id for s in spaces} == {org_a.id}
        assert await db.get(User, bob.id) is None


async def test_org_session_joins_are_scoped_too() -> None:
    org_a, org_b = await make_org(), await make_org()
    _alice, bob = await make_user(org_a), await make_user(org_b)
    await make_space(bob)
    async with org_session(org_a.id) as db:
        rows = (await db.execute(select(SpaceMember, User).join(User, User.id == SpaceMember.user_id))).all()
        assert all(u.org_id == org_a.id for _m, u in rows)
        assert bob.id not in {u.id for _m, u in rows}


async def test_org_session_refuses_to_write_another_organisations_row() -> None:
    org_a, org_b = await make_org(), await make_org()
    await make_user(org_a)
    async with org_session(org_a.id) as db:
        db.add(Space(org_id=org_b.id, name="smuggled"))
        with pytest.raises(CrossOrganisationWrite):
            await db.flush()


async def test_org_session_fills_in_its_organisation_on_new_rows() -> None:
    org = await make_org()
    async with org_session(org.id) as db:
        space = Space(name="filled-in")
        db.add(space)
        await db.flush()
        assert space.org_id == org.id
        await db.rollback()
