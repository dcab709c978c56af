"""The storage boundary of an IMAP session, folder side: what a signed-in user sees of
the mail store, under which names, and the folder operations, all through the mail
service (:mod:`hexagone.mail.service.mailboxes` and ``store``).

Names: the user's own mailbox is the personal namespace (``INBOX``, ``Sent``,
``Projets/2025``); every mailbox granted to them appears in the shared namespace as
``Shared/<address>/<folder>``. A name that resolves to nothing the user may open is
answered exactly like a name that does not exist (``NO [NONEXISTENT]``), whether the
folder is absent, in a mailbox without a grant, or in another organisation: every
query runs in a session scoped to the user's organisation, and every folder is looked up
inside a mailbox that :func:`~hexagone.mail.service.mailboxes.accessible` returned.

What the session may do with a mailbox is the core policy's answer (mail's rule,
:mod:`hexagone.mail.policy`) for the principal loaded when the user signed in: a mailbox
it may not view is not there, and a change to one it may not write (a read-only grant)
is ``NO [NOPERM]``.
"""

from __future__ import annotations

import json
import uuid
from array import array
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Text as SqlText
from sqlalchemy import case, cast, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hexagone.core import policy
from hexagone.core.auth import Principal
from hexagone.core.db import org_session
from hexagone.core.exceptions import ServiceError
from hexagone.identity.service import Person
from hexagone.mail.imap.parser import CommandError
from hexagone.mail.models import Folder, Mailbox, Message
from hexagone.mail.service import auth, mailboxes, store, writers
from hexagone.mail.service.mailboxes import DELIMITER, INBOX, Access

SHARED = "Shared"
SHARED_PREFIX = SHARED + DELIMITER


def nonexistent() -> CommandError:
    return CommandError("No such mailbox", status="NO", code="NONEXISTENT")


@dataclass(frozen=True, slots=True)
class FolderRef:
    """A folder as a session uses it: ids, the name the client knows, and its rights."""

    id: uuid.UUID
    mailbox_id: uuid.UUID
    name: str
    uidvalidity: int
    writable: bool


@dataclass(frozen=True, slots=True)
class ListEntry:
    name: str
    exists: bool  # False for the shared namespace's nodes, which hold only folders
    special_use: str | None
    subscribed: bool
    has_children: bool


@dataclass(slots=True)
class Snapshot:
    """What SELECT reports, read in one go."""

    folder: FolderRef
    uids: array[int]
    highest_modseq: int
    uid_next: int
    first_unseen_uid: int | None
    keywords: list[str]


@dataclass(frozen=True, slots=True)
class Status:
    messages: int
    unseen: int
    deleted: int
    size: int
    uid_next: int
    uidvalidity: int
    highest_modseq: int


@dataclass(frozen=True, slots=True)
class Quota:
    root: str
    used_bytes: int
    quota_bytes: int


async def uid_list(db: AsyncSession, folder_id: uuid.UUID, max_uid: int | None = None) -> array[int]:
    """A folder's UIDs in order, sent by the database as one comma-separated string: for
    50,000 messages that is one row to read instead of 50,000."""
    query = select(func.aggregate_strings(cast(Message.uid, SqlText), ",")).where(Message.folder_id == folder_id)
    if max_uid is not None:
        query = query.where(Message.uid <= max_uid)
    text = (await db.execute(query)).scalar()
    return array("Q", sorted(map(int, text.split(",")))) if text else array("Q")


def _external(access: Access, name: str) -> str:
    return name if access.own else f"{SHARED_PREFIX}{access.mailbox.address}{DELIMITER}{name}"


def _root(access: Access) -> str:
    return "" if access.own else f"{SHARED_PREFIX}{access.mailbox.address}"


def read_only() -> CommandError:
    return CommandError("This shared mailbox is read-only for you", status="NO", code="NOPERM")


class Account:
    """One signed-in user's view of the store. Holds only the person and their principal
    (whom the core policy judges): a thousand idle sessions keep a thousand small objects,
    everything else is read when needed."""

    __slots__ = ("principal", "user")

    def __init__(self, user: Person, principal: Principal):
        self.user = user
        self.principal = principal

    @classmethod
    async def sign_in(cls, user: Person) -> Account:
        """The account of a user who just signed in: their principal, loaded once, and
        their mailbox, created on their first sign-in (a write only that once). Invalid if
        the account was disabled meanwhile."""
        async with org_session(user.org_id) as db:
            principal = await auth.session_principal(db, user)
            found = (await db.execute(select(Mailbox.id).where(Mailbox.user_id == user.id))).first()
        if found is None:
            async with org_session(user.org_id, write=True) as db:
                await mailboxes.user_mailbox(db, user)
                await db.commit()
        return cls(user, principal)

    @property
    def org_id(self) -> uuid.UUID:
        return self.user.org_id

    def db(self, *, write: bool = False) -> Any:
        """A database session scoped to the user's organisation; ``write`` for one that
        changes something (on SQLite it takes the write lock at once, see core.db, once
        it is its turn among the process' mail writers: :mod:`..service.writers`)."""
        return writers.write_session(self.user.org_id) if write else org_session(self.user.org_id)

    def may_write(self, access: Access) -> bool:
        """Whether the session may change the mailbox (flags, messages, folders)."""
        return policy.abilities(self.principal, access).get("write", False)

    async def accesses(self, db: AsyncSession) -> list[Access]:
        """The mailboxes the session may view: the user's own, then those granted to them."""
        found = await mailboxes.accessible(db, self.user)
        return [access for access in found if policy.abilities(self.principal, access).get("view")]

    def locate(self, accesses: list[Access], name: str) -> tuple[Access, str]:
        """The mailbox and the folder name inside it that an IMAP name means."""
        if name == SHARED or name.startswith(SHARED_PREFIX):
            address, _, folder = name[len(SHARED_PREFIX) :].partition(DELIMITER)
            for access in accesses:
                if not access.own and access.mailbox.address == address.lower() and folder:
                    return access, INBOX if folder.upper() == INBOX else folder
            raise nonexistent()
        own = next((access for access in accesses if access.own), None)
        if own is None:
            raise nonexistent()
        return own, name

    async def folder(self, db: AsyncSession, name: str, *, write: bool = False) -> tuple[Folder, Access]:
        access, folder_name = self.locate(await self.accesses(db), name)
        folder = await mailboxes.folder_by_name(db, access.mailbox.id, folder_name)
        if folder is None:
            raise nonexistent()
        if write and not self.may_write(access):
            raise read_only()
        return folder, access

    def ref(self, folder: Folder, access: Access, name: str | None = None) -> FolderRef:
        """The folder as the session uses it (``name``: as the client wrote it)."""
        external = _external(access, folder.name) if name is None else name
        return FolderRef(folder.id, folder.mailbox_id, external, folder.uidvalidity, self.may_write(access))

    async def open(self, name: str, *, write: bool = False) -> FolderRef:
        async with self.db() as db:
            folder, access = await self.folder(db, name, write=write)
            return self.ref(folder, access)

    async def snapshot(self, name: str) -> Snapshot:
        """SELECT/EXAMINE: the folder, its UIDs in order, and the counters it reports."""
        async with self.db() as db:
            folder, access = await self.folder(db, name)
            ref = self.ref(folder, access)
            uids = await uid_list(db, folder.id)
            first_unseen = (
                await db.execute(
                    select(func.min(Message.uid)).where(Message.folder_id == folder.id, Message.seen.is_(False))
                )
            ).scalar()
            keywords = await self.keywords(db, folder.id)
            return Snapshot(ref, uids, folder.highest_modseq, folder.uid_next, first_unseen, keywords)

    @staticmethod
    async def keywords(db: AsyncSession, folder_id: uuid.UUID) -> list[str]:
        """The keywords in use in a folder (its FLAGS beyond the system ones)."""
        text = cast(Message.keywords, SqlText)
        rows = await db.execute(select(text).distinct().where(Message.folder_id == folder_id, text != "[]"))
        found: list[str] = []
        for (words,) in rows:
            found += [w for w in json.loads(words or "[]") if w not in found]
        return found

    async def listing(self) -> list[ListEntry]:
        """Every folder the user may see, with the shared namespace's nodes, sorted."""
        async with self.db() as db:
            accesses = await self.accesses(db)
            rows = (
                await db.execute(
                    select(Folder.mailbox_id, Folder.name, Folder.special_use, Folder.subscribed).where(
                        Folder.mailbox_id.in_([a.mailbox.id for a in accesses])
                    )
                )
            ).all()
        by_mailbox = {a.mailbox.id: a for a in accesses}
        entries: dict[str, tuple[bool, str | None, bool]] = {}
        for mailbox_id, name, special_use, subscribed in rows:
            access = by_mailbox[mailbox_id]
            if access.own and (name == SHARED or name.startswith(SHARED_PREFIX)):
                continue  # hidden by the shared namespace
            entries[_external(access, name)] = (True, special_use, subscribed)
        for name in list(entries):  # a parent deleted under its children, and the shared nodes
            parts = name.split(DELIMITER)
            for depth in range(1, len(parts)):
                entries.setdefault(DELIMITER.join(parts[:depth]), (False, None, False))
        names = sorted(entries, key=lambda n: (n != INBOX, n.lower()))
        children = {n.rsplit(DELIMITER, 1)[0] for n in names if DELIMITER in n}
        return [ListEntry(n, *entries[n], has_children=n in children) for n in names]

    async def status(self, name: str) -> Status:
        async with self.db() as db:
            folder, _ = await self.folder(db, name)
            total, unseen, deleted, size = (
                await db.execute(
                    select(
                        func.count(),
                        func.sum(case((Message.seen.is_(False), 1), else_=0)),
                        func.sum(case((Message.deleted.is_(True), 1), else_=0)),
                        func.sum(Message.size),
                    ).where(Message.folder_id == folder.id)
                )
            ).one()
            return Status(
                total,
                int(unseen or 0),
                int(deleted or 0),
                int(size or 0),
                folder.uid_next,
                folder.uidvalidity,
                folder.highest_modseq,
            )

    async def create(self, name: str) -> None:
        if name.rstrip(DELIMITER) == SHARED:
            raise CommandError("That name is the shared namespace", status="NO", code="CANNOT")
        async with self.db(write=True) as db:
            access, folder_name = self.locate(await self.accesses(db), name)
            if not self.may_write(access):
                raise read_only()
            if await mailboxes.folder_by_name(db, access.mailbox.id, folder_name.rstrip(DELIMITER)) is not None:
                raise CommandError("Mailbox already exists", status="NO", code="ALREADYEXISTS")
            await _service(mailboxes.create_folder(db, access.mailbox, folder_name))
            await db.commit()

    async def delete(self, name: str) -> None:
        async with self.db(write=True) as db:
            folder, access = await self.folder(db, name, write=True)
            if folder.name == INBOX:
                raise CommandError("INBOX cannot be deleted", status="NO", code="CANNOT")
            keys = await _service(mailboxes.delete_folder(db, access.mailbox, folder.name))
            store.forget_blobs(db, self.org_id, keys)
            await db.commit()

    async def rename(self, old: str, new: str) -> None:
        async with self.db(write=True) as db:
            accesses = await self.accesses(db)
            folder, access = await self.folder(db, old, write=True)
            target, new_name = self.locate(accesses, new)
            if target.mailbox.id != access.mailbox.id:
                raise CommandError("Folders move only within one mailbox", status="NO", code="CANNOT")
            if await mailboxes.folder_by_name(db, access.mailbox.id, new_name) is not None:
                raise CommandError("Mailbox already exists", status="NO", code="ALREADYEXISTS")
            await _service(mailboxes.rename_folder(db, access.mailbox, folder.name, new_name))
            await db.commit()

    async def subscribe(self, name: str, subscribed: bool) -> None:
        async with self.db(write=True) as db:
            folder, _ = await self.folder(db, name)
            folder.subscribed = subscribed
            await db.commit()

    async def quota_roots(self, name: str) -> list[Quota]:
        async with self.db() as db:
            _, access = await self.folder(db, name)
        return [Quota(_root(access), access.mailbox.used_bytes, access.mailbox.quota_bytes)]

    async def quota(self, root: str) -> Quota:
        async with self.db() as db:
            accesses = await self.accesses(db)
        for access in accesses:
            if _root(access) == root:
                return Quota(root, access.mailbox.used_bytes, access.mailbox.quota_bytes)
        raise CommandError("No such quota root", status="NO", code="NONEXISTENT")


async def _service(awaitable: Any) -> Any:
    """Service refusals (a name already taken, an invalid name) as IMAP ``NO``."""
    try:
        return await awaitable
    except ServiceError as error:
        raise CommandError(error.message, status="NO", code="CANNOT") from None
