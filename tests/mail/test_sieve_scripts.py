"""The script store behind ManageSieve and the rules page
(:mod:`hexagone.mail.service.sieve`): checked on the way in, one active script per
mailbox, the active one kept from deletion (RFC 5804 2.9, 2.10), each mailbox alone."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from hexagone.core.config import get_settings
from hexagone.core.db import org_session
from hexagone.core.exceptions import Conflict, Invalid, NotFound
from hexagone.identity.models import User
from hexagone.mail.models import Mailbox
from hexagone.mail.service import mailboxes, sieve
from tests.factories import TestUser
from tests.mail.factories import make_mail_org, make_mail_user

pytestmark = pytest.mark.usefixtures("migrated")


@asynccontextmanager
async def own(user: TestUser) -> AsyncIterator[tuple[AsyncSession, Mailbox]]:
    async with org_session(user.org_id) as db:
        row = await db.get(User, user.id)
        assert row is not None
        yield db, await mailboxes.user_mailbox(db, row)
        await db.commit()


async def put_all(db: AsyncSession, mailbox: Mailbox, scripts: dict[str, str], active: str) -> None:
    for name, content in scripts.items():
        await sieve.put(db, mailbox, name, content)
    await sieve.activate(db, mailbox, active)


async def test_sieve_put_refuses_a_script_that_does_not_parse_with_the_parsers_message() -> None:
    user = await make_mail_user()
    async with own(user) as (db, mailbox):
        with pytest.raises(Invalid, match="line 1"):
            await sieve.put(db, mailbox, "broken", 'if header :is "a" "b" {')
        with pytest.raises(Invalid, match='unsupported extension "regex"'):
            await sieve.put(db, mailbox, "regex", 'require "regex";')
        with pytest.raises(Invalid):
            await sieve.put(db, mailbox, "big", "keep;" + "#" * get_settings().mail_sieve_max_script_bytes)
        with pytest.raises(Invalid):
            await sieve.put(db, mailbox, "bad\x00name", "keep;")
        assert await sieve.scripts(db, mailbox) == []


async def test_sieve_activate_leaves_exactly_one_active_script() -> None:
    user = await make_mail_user()
    async with own(user) as (db, mailbox):
        await put_all(db, mailbox, {"a": "keep;", "b": "discard;"}, active="a")
        await sieve.activate(db, mailbox, "b")
        assert [(s.name, s.active) for s in await sieve.scripts(db, mailbox)] == [("a", False), ("b", True)]
        await sieve.put(db, mailbox, "b", "keep;")
        assert (await sieve.active(db, mailbox)).name == "b", "replacing the active script keeps it active"  # type: ignore[union-attr]
        await sieve.activate(db, mailbox, None)
        assert await sieve.active(db, mailbox) is None
        with pytest.raises(NotFound):
            await sieve.activate(db, mailbox, "missing")


async def test_sieve_delete_refuses_the_active_script_and_unknown_names() -> None:
    user = await make_mail_user()
    async with own(user) as (db, mailbox):
        await sieve.put(db, mailbox, "a", "keep;")
        await sieve.activate(db, mailbox, "a")
        with pytest.raises(Conflict):
            await sieve.delete(db, mailbox, "a")
        with pytest.raises(NotFound):
            await sieve.delete(db, mailbox, "missing")
        await sieve.activate(db, mailbox, None)
        await sieve.delete(db, mailbox, "a")
        assert await sieve.scripts(db, mailbox) == []


async def test_sieve_mailbox_keeps_at_most_its_share_of_scripts() -> None:
    user = await make_mail_user()
    async with own(user) as (db, mailbox):
        for number in range(get_settings().mail_sieve_max_scripts):
            await sieve.put(db, mailbox, f"s{number}", "keep;")
        with pytest.raises(Invalid):
            await sieve.put(db, mailbox, "one more", "keep;")
        with pytest.raises(sieve.TooMany):
            await sieve.have_space(db, mailbox, "one more", 10)
        await sieve.have_space(db, mailbox, "s0", 10)  # replacing takes no room
        with pytest.raises(sieve.TooLarge):
            await sieve.have_space(db, mailbox, "s0", get_settings().mail_sieve_max_script_bytes + 1)


async def test_sieve_rename_keeps_content_and_active_flag_and_refuses_a_taken_name() -> None:
    user = await make_mail_user()
    async with own(user) as (db, mailbox):
        await put_all(db, mailbox, {"old": "discard;", "other": "keep;"}, active="old")
        await sieve.rename(db, mailbox, "old", "new")
        with pytest.raises(Conflict):
            await sieve.rename(db, mailbox, "new", "other")
        with pytest.raises(NotFound):
            await sieve.rename(db, mailbox, "old", "again")
        with pytest.raises(Invalid):
            await sieve.rename(db, mailbox, "new", "e\u0301t\u00e9")  # not NFC
        assert [(s.name, s.content, s.active) for s in await sieve.scripts(db, mailbox)] == [
            ("new", "discard;", True),
            ("other", "keep;", False),
        ]


async def test_sieve_scripts_of_one_mailbox_are_not_anothers() -> None:
    org = await make_mail_org()
    alice, bob = await make_mail_user(org), await make_mail_user(org)
    async with own(alice) as (db, mailbox):
        await sieve.put(db, mailbox, "mine", "keep;")
        await sieve.activate(db, mailbox, "mine")
    async with own(bob) as (db, mailbox):
        assert await sieve.scripts(db, mailbox) == [] and await sieve.get(db, mailbox, "mine") is None
        with pytest.raises(NotFound):
            await sieve.activate(db, mailbox, "mine")
        await sieve.activate(db, mailbox, None)
    async with own(alice) as (db, mailbox):
        assert (await sieve.active(db, mailbox)).name == "mine"  # type: ignore[union-attr]
