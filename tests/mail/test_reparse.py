"""``hexagone mail reparse``: messages stored before an upgrade are read again, so that
their envelope, address columns, Date day and search texts are what delivery makes today;
flags, UIDs and mod-sequences stay as they were."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import update

from hexagone.core.db import system_session
from hexagone.mail.models import Message
from tests.commands import hexagone
from tests.mail.factories import deliver, make_mail_user, messages_in

pytestmark = pytest.mark.usefixtures("migrated")

RAW = (
    b"From: a@example.org\r\nTo: Team: ann@x.example;\r\nDate: Mon, 01 Jan 2024 01:30:00 +0900\r\n"
    b"Subject: old\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=B\r\n\r\n"
    b"--B\r\nContent-Type: text/plain\r\n\r\nhello\r\n"
    b"--B\r\nContent-Type: message/rfc822\r\n\r\nSubject: inner\r\n\r\nforwarded wombat\r\n--B--\r\n"
)


async def test_reparse_rewrites_what_delivery_reads_and_keeps_flags_and_uids() -> None:
    user = await make_mail_user()
    await deliver(user, RAW, flags=("\\Seen",))
    [fresh] = await messages_in(user)
    async with system_session(write=True) as db:  # the row as an older release stored it
        await db.execute(
            update(Message)
            .where(Message.id == fresh.id)
            .values(
                envelope={},
                to_addrs="",
                sent_on=None,
                search_text="hello",
                part_headers="",
                structure={key: value for key, value in fresh.structure.items() if key != "v"},  # no version
            )
        )
        await db.commit()

    result = hexagone("mail", "reparse", "--json")

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["reparsed"] >= 1
    [again] = await messages_in(user)
    assert again.envelope == fresh.envelope and again.envelope["to"][0] == [None, None, "Team", None]
    assert again.to_addrs == "Team: ann@x.example;"
    assert again.sent_on is not None and again.sent_on.isoformat() == "2024-01-01"
    assert "forwarded wombat" in again.search_text
    assert "subject: inner" in again.part_headers
    assert (again.uid, again.modseq, again.seen) == (fresh.uid, fresh.modseq, True)
