"""What a mailbox holds, folder by folder, in a form two servers can be compared in:
each message as (bytes, flags, internal date), in UID order."""

from __future__ import annotations

from datetime import datetime

from imapclient import IMAPClient
from sqlalchemy import select

from hexagone.core.db import system_session
from hexagone.mail.models import Folder, Mailbox, Message
from hexagone.mail.service import store

Item = tuple[bytes, frozenset[str], datetime]


def imap_contents(client: IMAPClient) -> dict[str, list[Item]]:
    """Every selectable folder of an IMAP account (names as the server gives them)."""
    found: dict[str, list[Item]] = {}
    for attributes, _delimiter, name in client.list_folders():
        if b"\\Noselect" in attributes:
            continue
        client.select_folder(name, readonly=True)
        uids = client.search("ALL")
        answer = client.fetch(uids, [b"FLAGS", b"INTERNALDATE", b"BODY.PEEK[]"]) if uids else {}
        found[name] = [
            (
                answer[uid][b"BODY[]"],
                frozenset(f.decode() for f in answer[uid][b"FLAGS"]) - {"\\Recent"},
                answer[uid][b"INTERNALDATE"],
            )
            for uid in sorted(answer)
        ]
    return found


async def mailbox_contents(address: str) -> dict[str, list[Item]]:
    """Every folder of our mailbox with that address."""
    async with system_session() as db:
        mailbox = (await db.execute(select(Mailbox).where(Mailbox.address == address))).scalar_one()
        folders = list((await db.execute(select(Folder).where(Folder.mailbox_id == mailbox.id))).scalars())
        found: dict[str, list[Item]] = {}
        for folder in folders:
            messages = (
                await db.execute(select(Message).where(Message.folder_id == folder.id).order_by(Message.uid))
            ).scalars()
            found[folder.name] = [
                (await store.read(m), frozenset(store.flags_of(m)), m.internal_date) for m in messages
            ]
        return found
