"""The demo organisation opens on a living inbox, filled once.

The seeding is tested on an organisation of its own (other tests of the run use the demo
users' mailboxes); ``hexagone demo`` itself is run to show it calls the mail module's hook."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from hexagone.core.db import system_session
from hexagone.mail.models import Folder, Mailbox, Message
from hexagone.mail.service import demo
from tests.cli.test_commands import hexagone
from tests.factories import TestOrg
from tests.mail.factories import make_mail_org, make_mail_user

pytestmark = pytest.mark.usefixtures("migrated")


async def _counts(org: TestOrg) -> dict[tuple[str, str], int]:
    async with system_session() as db:
        rows = await db.execute(
            select(Mailbox.address, Folder.name, func.count()).select_from(Message)
            .join(Folder, Folder.id == Message.folder_id).join(Mailbox, Mailbox.id == Message.mailbox_id)
            .where(Mailbox.org_id == org.id).group_by(Mailbox.address, Folder.name)
        )
        return {(address.split("@")[0], folder): count for address, folder, count in rows}


async def test_demo_seed_fills_alice_bob_and_carol_once() -> None:
    org = await make_mail_org()
    for name in ("alice", "bob", "carol"):
        await make_mail_user(org, email=f"{name}@{org.domain}")
    await demo.seed(org.id)
    first = await _counts(org)
    await demo.seed(org.id)
    assert await _counts(org) == first == {
        ("alice", "INBOX"): 3, ("alice", "Sent"): 1, ("bob", "INBOX"): 1, ("bob", "Sent"): 1, ("carol", "Sent"): 1,
    }


async def test_demo_command_seeds_the_demo_mailboxes() -> None:
    assert hexagone("demo").returncode == 0
    async with system_session() as db:
        count = (await db.execute(select(func.count()).select_from(Message).join(Mailbox, Mailbox.id == Message.mailbox_id)
                                  .where(Mailbox.address == "bob@demo.hexagone.test"))).scalar()
    assert count and count >= 1
