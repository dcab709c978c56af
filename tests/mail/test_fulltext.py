"""The full-text index of subjects and search texts (mail/fulltext.py, migrations 0002 and 0004): searches
through it find what the exact condition finds, and it follows expunges and moves."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select, text

from hexagone.core.config import get_settings
from hexagone.core.db import org_session
from hexagone.mail.imap.query import _contains
from hexagone.mail.models import Folder, Message
from hexagone.mail.service import store
from tests.mail.factories import deliver, folder_of, make_mail_user

pytestmark = pytest.mark.usefixtures("migrated")


async def _found(user_org: uuid.UUID, folder_id: uuid.UUID, column: str, needle: str) -> list[str]:
    """The subjects of the folder's messages whose ``column`` contains ``needle``, as SEARCH asks."""
    async with org_session(user_org) as db:
        query = select(Message.subject).where(
            Message.folder_id == folder_id, _contains(getattr(Message, column), needle)
        )
        return sorted((await db.execute(query.order_by(Message.uid))).scalars())


async def _indexed(word: str) -> int | None:
    """Rows of the SQLite index that hold ``word`` (None on PostgreSQL, whose index has no rows to count)."""
    if not get_settings().resolved_database_url.startswith("sqlite"):
        return None
    async with org_session(uuid.uuid4()) as db:
        query = text("SELECT count(*) FROM mail_messages_fts WHERE mail_messages_fts MATCH :q")
        return (await db.execute(query, {"q": f'"{word}"'})).scalar_one()


async def test_fulltext_search_finds_substrings_in_any_case_as_the_exact_condition_does() -> None:
    user = await make_mail_user()
    word = f"zq{uuid.uuid4().hex[:6]}"
    await deliver(user, subject=f"Re: {word.upper()}-budget", body="nothing here\n")
    await deliver(user, subject="other", body=f"the {word}ment arrived, 100% sure\n")
    await deliver(user, subject="none", body="unrelated\n")
    inbox = (await folder_of(user)).id
    assert await _found(user.org_id, inbox, "subject", word) == [f"Re: {word.upper()}-budget"]
    assert await _found(user.org_id, inbox, "search_text", word[2:].upper()) == ["other"]
    assert await _found(user.org_id, inbox, "search_text", "0% s") == ["other"]  # LIKE's wildcards are plain characters
    assert await _found(user.org_id, inbox, "search_text", "un") == ["none"]  # too short for the index: exact only


async def test_fulltext_index_follows_expunge_and_move() -> None:
    user = await make_mail_user()
    word = f"zq{uuid.uuid4().hex[:6]}"
    await deliver(user, subject="kept", body=f"{word}\n")
    await deliver(user, subject="expunged", body=f"{word}\n", flags=("\\Deleted",))
    await deliver(user, subject="moved", body=f"{word}\n")
    inbox, archive = await folder_of(user), await folder_of(user, "Archive")
    assert await _indexed(word) in (3, None)
    async with org_session(user.org_id, write=True) as db:
        source, target = await db.get(Folder, inbox.id), await db.get(Folder, archive.id)
        assert source is not None and target is not None
        await store.expunge(db, source)
        moving = [m for m in await store.messages_by_uid(db, source) if m.subject == "moved"]
        await store.move(db, source, moving, target)
        await db.commit()
    assert await _indexed(word) in (2, None)
    assert await _found(user.org_id, inbox.id, "search_text", word) == ["kept"]
    assert await _found(user.org_id, archive.id, "search_text", word) == ["moved"]
