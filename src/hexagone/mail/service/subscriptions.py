"""Subscriptions: the names of folders a user wants their mail client to show (IMAP
SUBSCRIBE and LSUB, RFC 3501 6.3.6 and 6.3.9; RFC 5258's ``\\Subscribed``).

A list of names per user, not a property of folders: a name may be subscribed before its
folder exists or after it was deleted, and a folder's CREATE or DELETE leaves the list
alone, as in Dovecot; only the user changes it (a server "MUST NOT unilaterally remove an
existing mailbox name from the subscription list"). Names are the ones the user sees:
``Projets/2025`` in their own mailbox, ``Shared/<address>/<folder>`` in one granted to
them (:func:`external_name`).

What the server subscribes by itself, so that clients that show subscribed folders only
(Thunderbird's default) show what a user has without asking: the default folders of a
new mailbox for its owner, every folder of a mailbox newly granted to a user, and the
folders a user makes in the webmail, the API or an import. A rename made by a user moves
that user's own subscriptions of the folder and of those under it.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Protocol

from sqlalchemy import delete, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from hexagone.core.pubsub import events
from hexagone.mail.models import DELIMITER, INBOX, Folder, Mailbox, Subscription


class Access(Protocol):
    """A user's access to a mailbox, as :class:`hexagone.mail.service.mailboxes.Access`
    (which builds on this module) gives it."""

    @property
    def mailbox(self) -> Mailbox: ...
    @property
    def user_id(self) -> uuid.UUID: ...
    @property
    def own(self) -> bool: ...


SHARED = "Shared"  # the shared namespace, where granted mailboxes appear
SHARED_PREFIX = SHARED + DELIMITER
MAX_NAME = 500


def change_channel(user_id: uuid.UUID) -> str:
    return f"mail.subscriptions.{user_id}"


def _announce(db: AsyncSession, user_id: uuid.UUID, name: str, subscribed: bool) -> None:
    """Told after commit to the user's IMAP sessions that asked for SubscriptionChange
    (RFC 5465 5.5); a name added twice is told twice, which costs a client nothing."""
    events.publish_on_commit(db, change_channel(user_id), {"name": name, "subscribed": subscribed})


def external_name(mailbox: Mailbox, own: bool, folder_name: str) -> str:
    """The name a user knows a folder by: its own name in their mailbox, under the shared
    namespace in one granted to them."""
    return folder_name if own else f"{SHARED_PREFIX}{mailbox.address}{DELIMITER}{folder_name}"


def canonical(name: str) -> str:
    """One spelling per name: ``INBOX`` in any case is ``INBOX`` (RFC 3501 5.1), at the top
    of one's own mailbox and of a shared one, whose address is compared lower-cased."""
    if name.startswith(SHARED_PREFIX):
        address, sep, folder = name[len(SHARED_PREFIX) :].partition(DELIMITER)
        return f"{SHARED_PREFIX}{address.lower()}{sep}{canonical(folder) if folder else ''}"
    head, sep, rest = name.partition(DELIMITER)
    return INBOX + sep + rest if head.upper() == INBOX else name


def valid(name: str) -> bool:
    return 0 < len(name) <= MAX_NAME and not any(ord(ch) < 32 or ord(ch) == 127 for ch in name)


async def names(db: AsyncSession, user_id: uuid.UUID) -> set[str]:
    return set((await db.execute(select(Subscription.name).where(Subscription.user_id == user_id))).scalars())


async def subscribe(db: AsyncSession, org_id: uuid.UUID, user_id: uuid.UUID, wanted: Iterable[str]) -> None:
    """Add names to the user's list; a name already there stays once, even when two
    sessions add it at the same moment (``ON CONFLICT DO NOTHING``)."""
    insert = postgresql.insert if db.get_bind().dialect.name == "postgresql" else sqlite.insert
    for name in dict.fromkeys(canonical(n) for n in wanted):
        await db.execute(
            insert(Subscription)
            .values(id=uuid.uuid4(), org_id=org_id, user_id=user_id, name=name)
            .on_conflict_do_nothing(index_elements=[Subscription.user_id, Subscription.name])
        )
        _announce(db, user_id, name, True)


async def unsubscribe(db: AsyncSession, user_id: uuid.UUID, name: str) -> None:
    await db.execute(
        delete(Subscription)
        .where(Subscription.user_id == user_id, Subscription.name == canonical(name))
        .execution_options(synchronize_session=False)
    )
    _announce(db, user_id, canonical(name), False)


async def rename(db: AsyncSession, user_id: uuid.UUID, old: str, new: str) -> None:
    """The user renamed ``old`` to ``new``: their subscriptions of it and of the names under
    it follow. Renaming INBOX moves its messages, not INBOX itself (RFC 3501 6.3.5), so the
    subscriptions of INBOX and of its children stay."""
    old, new = canonical(old), canonical(new)
    if old == INBOX or (old.startswith(SHARED_PREFIX) and old.split(DELIMITER, 2)[2:] == [INBOX]):
        return
    under = old + DELIMITER
    rows = (
        await db.execute(
            select(Subscription).where(
                Subscription.user_id == user_id,
                or_(Subscription.name == old, Subscription.name.startswith(under, autoescape=True)),
            )
        )
    ).scalars()
    taken = await names(db, user_id)
    for row in list(rows):
        if row.name != old and not row.name.startswith(under):
            continue  # SQLite's LIKE ignores case: "projets/x" is not under "Projets"
        target = new + row.name[len(old) :]
        _announce(db, user_id, row.name, False)
        _announce(db, user_id, target, True)
        if target in taken:
            await db.delete(row)
        else:
            await db.execute(
                update(Subscription)
                .where(Subscription.id == row.id)
                .values(name=target)
                .execution_options(synchronize_session=False)
            )
    await db.flush()


async def subscribe_mailbox(db: AsyncSession, mailbox: Mailbox, user_id: uuid.UUID, *, own: bool) -> None:
    """Subscribe a user to every folder of a mailbox (theirs, or newly granted to them)."""
    folders = (await db.execute(select(Folder.name).where(Folder.mailbox_id == mailbox.id))).scalars()
    await subscribe(db, mailbox.org_id, user_id, [external_name(mailbox, own, name) for name in folders])


async def follow_new(db: AsyncSession, access: Access, folder_name: str) -> None:
    """The user made a folder outside IMAP (webmail, API, import): subscribe them to it,
    as an IMAP client that creates a folder subscribes to it itself."""
    await subscribe(db, access.mailbox.org_id, access.user_id, [external_name(access.mailbox, access.own, folder_name)])


async def follow_rename(db: AsyncSession, access: Access, old: str, new: str) -> None:
    """The user renamed a folder outside IMAP: their subscriptions follow it."""
    mailbox, own = access.mailbox, access.own
    await rename(db, access.user_id, external_name(mailbox, own, old), external_name(mailbox, own, new))
