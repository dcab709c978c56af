"""``hexagone demo`` opens on a living inbox, and running it again adds nothing."""

from __future__ import annotations

from sqlalchemy import func, select

from hexagone.core.db import system_session
from hexagone.mail.models import Folder, Mailbox, Message
from tests.cli.test_commands import hexagone


async def _counts() -> dict[tuple[str, str], int]:
    async with system_session() as db:
        rows = await db.execute(
            select(Mailbox.address, Folder.name, func.count()).select_from(Message)
            .join(Folder, Folder.id == Message.folder_id)
            .join(Mailbox, Mailbox.id == Message.mailbox_id).where(Mailbox.address.like("%@demo.hexagone.test"))
            .group_by(Mailbox.address, Folder.name)
        )
        return {(address, folder): count for address, folder, count in rows}


async def test_demo_fills_the_demo_mailboxes_once(migrated: None) -> None:
    assert hexagone("demo").returncode == 0
    first = await _counts()
    assert hexagone("demo").returncode == 0
    assert await _counts() == first
    assert first[("alice@demo.hexagone.test", "INBOX")] == 3
    assert first[("bob@demo.hexagone.test", "INBOX")] == 1
    assert first[("bob@demo.hexagone.test", "Sent")] == 1
