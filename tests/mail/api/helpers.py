"""Helpers of the mail API tests: access tokens obtained through our own OpenID provider
(authlib's client, the test's httpx client as the user's browser), and an organisation
with a shared mailbox granted read-only to one colleague and with send-as to another,
beside a colleague without access, a guest and a stranger in another organisation."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import httpx

from hexagone.core.db import org_session
from hexagone.identity.models import User
from hexagone.mail.models import Mailbox, Message
from hexagone.mail.service import mailboxes, store
from tests.factories import TestOrg, TestUser, login, make_user, unique
from tests.mail.factories import make_mail_org, make_mail_user, make_message
from tests.oidc.factories_oidc import bearer, make_app, relying_party, sign_in

API = "/api/v1/mail"
ATTACHMENT = (("notes.txt", b"bonjour", "text/plain"),)


async def token_for(base_url: str, user: TestUser) -> str:
    """An access token with the ``api`` scope, from the authorization-code flow (PKCE)
    of an application registered in the user's organisation."""
    app = await make_app(TestOrg(id=user.org_id, name="", domain=""))
    rp = relying_party(base_url, app, scope="openid api")
    async with httpx.AsyncClient(base_url=base_url, follow_redirects=False, timeout=30) as browser:
        await login(browser, user)
        _request, token = await sign_in(browser, rp, app)
    return str(token["access_token"])


@dataclass
class Person:
    user: TestUser
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return bearer(self.token)


@dataclass
class World:
    org: TestOrg
    alice: Person  # owns her mailbox
    bob: Person  # a colleague with no grant
    reader: Person  # the shared mailbox, read-only
    writer: Person  # the shared mailbox, read-write and send-as
    guest: TestUser  # guests get no token (the provider refuses them): they use the session
    stranger: Person  # another organisation
    shared: Mailbox


async def make_world(base_url: str) -> World:
    org = await make_mail_org()
    alice, bob, reader, writer = [await make_mail_user(org) for _ in range(4)]
    guest = await make_user(org, role="guest")
    stranger = await make_mail_user()
    async with org_session(org.id) as db:
        shared = await mailboxes.create_shared_mailbox(db, org.id, f"{unique('contact')}@{org.domain}", "Contact")
        await mailboxes.grant(db, shared, reader.id, can_write=False, can_send_as=False)
        await mailboxes.grant(db, shared, writer.id, can_write=True, can_send_as=True)
        await db.commit()
    alice_, bob_, reader_, writer_, stranger_ = [
        Person(p, await token_for(base_url, p)) for p in (alice, bob, reader, writer, stranger)
    ]
    return World(org, alice_, bob_, reader_, writer_, guest, stranger_, shared)


async def own_mailbox(user: TestUser) -> Mailbox:
    async with org_session(user.org_id) as db:
        row = await db.get(User, user.id)
        assert row is not None
        mailbox = await mailboxes.user_mailbox(db, row)
        await db.commit()
        return mailbox


async def deliver_to(mailbox: Mailbox, folder: str = mailboxes.INBOX, **message: Any) -> Message:
    """A message in one of ``mailbox``'s folders, through the store."""
    async with org_session(mailbox.org_id) as db:
        target = await mailboxes.folder_by_name(db, mailbox.id, folder)
        assert target is not None
        added = await store.append(db, target, make_message(**message))
        await db.commit()
        return added


@dataclass
class Objects:
    """A mailbox's objects as the routes name them: the mailbox, its inbox, a folder of
    one's own (to rename), another folder (to move to), and a message with an attachment
    (part 1) in the inbox."""

    mailbox: uuid.UUID
    folder: uuid.UUID
    custom: uuid.UUID
    target: uuid.UUID
    message: uuid.UUID


async def objects_in(mailbox: Mailbox) -> Objects:
    async with org_session(mailbox.org_id) as db:
        inbox = await mailboxes.folder_by_name(db, mailbox.id, mailboxes.INBOX)
        archive = await mailboxes.folder_by_name(db, mailbox.id, "Archive")
        assert inbox is not None and archive is not None
        custom = await mailboxes.create_folder(db, mailbox, unique("Dossier"))
        message = await store.append(db, inbox, make_message(attachments=ATTACHMENT))
        await db.commit()
    return Objects(mailbox.id, inbox.id, custom.id, archive.id, message.id)
