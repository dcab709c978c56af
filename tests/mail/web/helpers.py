"""Helpers of the webmail tests: a signed-in client, posting a form with its CSRF token,
finding a user's folders and messages, and a stranger in another organisation."""

from __future__ import annotations

import re
import uuid
import weakref
from dataclasses import dataclass

import httpx
from sqlalchemy import select

from hexagone.core.db import org_session, system_session
from hexagone.identity.models import User
from hexagone.mail.models import Folder, Message
from hexagone.mail.service import mailboxes
from tests.factories import TestOrg, TestUser, login
from tests.mail.factories import deliver, folder_of, make_mail_org, make_mail_user

CSRF = re.compile(r'data-csrf="([0-9a-f]+)"')


@dataclass
class Pair:
    """Two colleagues of one organisation that subscribes to mail."""

    org: TestOrg
    alice: TestUser
    bob: TestUser


async def make_pair() -> Pair:
    org = await make_mail_org()
    return Pair(org, await make_mail_user(org), await make_mail_user(org))


async def signed_in(client: httpx.AsyncClient, user: TestUser) -> httpx.AsyncClient:
    await login(client, user)
    return client


_tokens: weakref.WeakKeyDictionary[httpx.AsyncClient, str] = weakref.WeakKeyDictionary()


async def csrf(client: httpx.AsyncClient) -> str:
    """The client's CSRF token, read once from a page (it lasts as long as its cookie)."""
    if client not in _tokens:
        response = await client.get("/mail/settings")
        found = CSRF.search(response.text)
        assert found, response.text[:300]
        _tokens[client] = found.group(1)
    return _tokens[client]


async def post(
    client: httpx.AsyncClient,
    path: str,
    data: dict[str, object] | None = None,
    files: list[tuple[str, tuple[str, bytes, str]]] | None = None,
) -> httpx.Response:
    """A form post with the CSRF token, as the page's own form sends it."""
    fields = {"csrf_token": await csrf(client), **(data or {})}
    return await client.post(path, data=fields, files=files)


async def folder_id(user: TestUser, name: str = "INBOX") -> uuid.UUID:
    return (await folder_of(user, name)).id


async def mailbox_id(user: TestUser) -> uuid.UUID:
    async with org_session(user.org_id) as db:
        row = await db.get(User, user.id)
        assert row is not None
        mailbox = await mailboxes.user_mailbox(db, row)
        await db.commit()
        return mailbox.id


async def reload(message: Message) -> Message | None:
    async with system_session() as db:
        return await db.get(Message, message.id)


async def where_is(message_id: str) -> list[tuple[str, Message]]:
    """(folder name, row) of every copy of a message, by its Message-ID header."""
    async with system_session() as db:
        rows = await db.execute(
            select(Folder.name, Message)
            .join(Folder, Folder.id == Message.folder_id)
            .where(Message.message_id == message_id)
        )
        return [(name, message) for name, message in rows.all()]


async def stranger_message() -> Message:
    """A message in the inbox of someone in another organisation."""
    return await deliver(await make_mail_user())
