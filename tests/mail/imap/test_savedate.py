"""SAVEDATE (RFC 8514): FETCH SAVEDATE is when the message came into its folder, by
APPEND, delivery, COPY or MOVE, whatever its INTERNALDATE says."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

import pytest
from sqlalchemy import update

from hexagone.core.db import org_session
from hexagone.mail.models import Message
from tests.factories import TestUser
from tests.mail.factories import deliver, make_message

pytestmark = pytest.mark.usefixtures("migrated")

LONG_AGO = datetime(2001, 2, 3, 4, 5, 6, tzinfo=UTC)


def _when(value: bytes) -> datetime:
    """An IMAP date-time (``03-Feb-2001 04:05:06 +0000``) as a datetime."""
    day, month, rest = value.decode().split("-", 2)
    return parsedate_to_datetime(f"{day} {month} {rest}")


async def test_savedate_of_an_appended_message_is_now_not_its_internaldate(imapclient, user: TestUser) -> None:
    client = imapclient(user)
    assert b"SAVEDATE" in client.capabilities()
    client.append("INBOX", make_message(subject="old"), msg_time=LONG_AGO)
    client.select_folder("INBOX")
    found = client.fetch([1], ["SAVEDATE", "INTERNALDATE"])[1]
    assert found[b"INTERNALDATE"].year == 2001
    assert abs(_when(found[b"SAVEDATE"]) - datetime.now(UTC)) < timedelta(minutes=5)


async def test_savedate_of_a_copy_is_when_it_was_copied(imapclient, user: TestUser) -> None:
    added = await deliver(user, make_message(subject="copied"))
    async with org_session(user.org_id) as db:
        await db.execute(update(Message).where(Message.id == added.id).values(saved_at=LONG_AGO))
        await db.commit()
    client = imapclient(user)
    client.select_folder("INBOX")
    assert _when(client.fetch([1], ["SAVEDATE"])[1][b"SAVEDATE"]) == LONG_AGO
    client.copy([1], "Archive")
    client.move([1], "Drafts")
    for folder in ("Archive", "Drafts"):
        client.select_folder(folder)
        saved = _when(client.fetch([1], ["SAVEDATE"])[1][b"SAVEDATE"])
        assert abs(saved - datetime.now(UTC)) < timedelta(minutes=5), folder
