"""The demo organisation opens on a living inbox, filled once.

The seeding is tested on an organisation of its own (other tests of the run use the demo
users' mailboxes), and ``hexagone demo`` on a new installation of its own."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import func, select

from hexagone.core.db import system_session
from hexagone.mail.models import Folder, Mailbox, Message
from hexagone.mail.service import demo
from tests.commands import hexagone
from tests.conftest import server_env
from tests.factories import TestOrg
from tests.mail.factories import make_mail_org, make_mail_user

pytestmark = pytest.mark.usefixtures("migrated")


async def _counts(org: TestOrg) -> dict[tuple[str, str], int]:
    async with system_session() as db:
        rows = await db.execute(
            select(Mailbox.address, Folder.name, func.count())
            .select_from(Message)
            .join(Folder, Folder.id == Message.folder_id)
            .join(Mailbox, Mailbox.id == Message.mailbox_id)
            .where(Mailbox.org_id == org.id)
            .group_by(Mailbox.address, Folder.name)
        )
        return {(address.split("@")[0], folder): count for address, folder, count in rows}


async def test_demo_seed_fills_alice_bob_and_carol_once() -> None:
    org = await make_mail_org()
    for name in ("alice", "bob", "carol"):
        await make_mail_user(org, email=f"{name}@{org.domain}")
    await demo.seed(org.id)
    first = await _counts(org)
    await demo.seed(org.id)
    assert (
        await _counts(org)
        == first
        == {
            ("alice", "INBOX"): 3,
            ("alice", "Sent"): 1,
            ("bob", "INBOX"): 1,
            ("bob", "Sent"): 1,
            ("carol", "Sent"): 1,
        }
    )


def test_demo_command_on_a_new_installation_fills_the_inboxes(tmp_path: Path) -> None:
    """On a data directory of its own: the run's shared demo organisation may already
    hold mail from other tests, and the seeding then (rightly) does nothing."""
    env = server_env(
        HEXAGONE_DATA_DIR=str(tmp_path), HEXAGONE_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'demo.sqlite3'}"
    )
    for command in (("migrate",), ("demo",), ("demo",)):
        done = hexagone(*command, env=env)
        assert done.returncode == 0, done.stderr
    with sqlite3.connect(tmp_path / "demo.sqlite3") as db:
        rows = db.execute(
            "SELECT b.address, f.name, count(*) FROM mail_messages m JOIN mail_folders f ON f.id = m.folder_id "
            "JOIN mail_mailboxes b ON b.id = m.mailbox_id GROUP BY 1, 2"
        ).fetchall()
    assert {(a.split("@")[0], f): n for a, f, n in rows} == {
        ("alice", "INBOX"): 3,
        ("alice", "Sent"): 1,
        ("bob", "INBOX"): 1,
        ("bob", "Sent"): 1,
        ("carol", "Sent"): 1,
    }
