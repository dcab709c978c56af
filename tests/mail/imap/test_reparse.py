"""``hexagone mail reparse``: messages stored with a MIME tree an older parser made are
parsed again, in batches, by the command an administrator runs after an upgrade; the
running IMAP server answers from the new tree at once."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from imapclient import IMAPClient
from sqlalchemy import update

from hexagone.core import blobs
from hexagone.core.db import system_session
from hexagone.mail import mime, mimetree
from hexagone.mail.models import Message
from tests.commands import hexagone
from tests.factories import TestUser
from tests.mail.factories import deliver, make_message, messages_in
from tests.mail.imap.differential.mime_cases import MIME_CASES

pytestmark = pytest.mark.usefixtures("migrated")


def _unique(raw: bytes) -> bytes:
    """``raw`` with a header of its own: copies of the same bytes share their rendering."""
    return b"X-Test: " + uuid.uuid4().hex.encode() + b"\r\n" + raw


def _older_tree(raw: bytes) -> dict[str, Any]:
    """A tree as version 1 stored it: no version, one text part with a charset of its own."""
    return {
        "type": "text",
        "subtype": "plain",
        "params": [["charset", "x-older"]],
        "encoding": "7BIT",
        "header_start": 0,
        "body_start": 0,
        "end": len(raw),
        "size": len(raw),
        "lines": raw.count(b"\n"),
    }


async def _store_older_trees(messages: list[Message], raws: list[bytes]) -> None:
    async with system_session(write=True) as db:
        for message, raw in zip(messages, raws, strict=True):
            await db.execute(
                update(Message)
                .where(Message.id == message.id)
                .values(structure=_older_tree(raw), has_attachments=False)
                .execution_options(synchronize_session=False)
            )
        await db.commit()


def reparse(*args: str) -> dict[str, int]:
    done = hexagone("mail", "reparse", "--json", *args)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


async def test_reparse_replaces_trees_of_an_older_version_and_imap_answers_from_them(
    user: TestUser, imapclient: Callable[..., IMAPClient]
) -> None:
    raws = [
        _unique(MIME_CASES[name]) for name in ("rfc2231-joined-undecoded", "boundary-never-found-gives-an-empty-part")
    ]
    stored = [await deliver(user, raw) for raw in raws]
    await _store_older_trees(stored, raws)
    client = imapclient(user)
    client.select_folder("INBOX", readonly=True)
    before = client.fetch([1], ["BODYSTRUCTURE"])[1][b"BODYSTRUCTURE"]
    assert b"x-older" in str(before).encode()  # drawn from the older tree

    assert reparse("--batch", "1")["reparsed"] >= 2
    for message, raw in zip(await messages_in(user), raws, strict=True):
        assert message.structure == mime.parse(raw).structure
        assert message.structure["v"] == mimetree.VERSION
    assert [m.has_attachments for m in await messages_in(user)] == [True, False]
    after = client.fetch([1, 2], ["BODYSTRUCTURE"])
    assert b"x-older" not in str(after).encode()
    assert after[2][b"BODYSTRUCTURE"][0][0][:2] == (b"text", b"plain")  # the empty part of a boundary never found

    assert reparse() == {"reparsed": 0, "unreadable": 0}  # nothing left: a second run does nothing


async def test_reparse_leaves_a_message_whose_bytes_are_missing_as_it_was(user: TestUser) -> None:
    raw = make_message(subject="lost bytes", body="unique 6a1f\n")
    message = await deliver(user, raw)
    await _store_older_trees([message], [raw])
    await blobs.get_store().delete(message.blob_key)

    assert reparse()["unreadable"] == 1
    [kept] = await messages_in(user)
    assert kept.structure == _older_tree(raw)
    async with system_session(write=True) as db:  # leave no stale tree for the other tests' runs
        await db.execute(update(Message).where(Message.id == message.id).values(structure=mime.parse(raw).structure))
        await db.commit()
