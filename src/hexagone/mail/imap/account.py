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

Subscriptions are the user's list of names (:mod:`hexagone.mail.service.subscriptions`),
not a property of folders; ACL rights (RFC 4314) are the policy's abilities spelled as
rights (:mod:`.acl`), and changing them is delegating the mailbox
(:mod:`hexagone.mail.service.delegation`).

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
from sqlalchemy import case, cast, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from hexagone.core import policy
from hexagone.core.auth import Principal
from hexagone.core.db import org_session
from hexagone.core.exceptions import ServiceError
from hexagone.identity.service import Person
from hexagone.mail.imap import acl
from hexagone.mail.imap.listing import Node, Tree
from hexagone.mail.imap.parser import CommandError
from hexagone.mail.models import Folder, Mailbox, Message
from hexagone.mail.service import auth, delegation, mailboxes, store, subscriptions, writers
from hexagone.mail.service.mailboxes import DELIMITER, INBOX, Access
from hexagone.mail.service.subscriptions import SHARED, SHARED_PREFIX


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


@dataclass(slots=True)
class Snapshot:
    """What SELECT reports, read in one go."""

    folder: FolderRef
    uids: array[int]
    highest_modseq: int
    uid_next: int
    first_recent_uid: int
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
    recent: int
    folder_id: uuid.UUID  # RFC 8474 MAILBOXID


@dataclass(frozen=True, slots=True)
class Acl:
    """A mailbox's access control list, as RFC 4314 spells it, and the names of all its
    folders (a change to one is a change to all, see :mod:`.acl`)."""

    entries: list[tuple[str, str]]
    folders: list[str]


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
    return subscriptions.external_name(access.mailbox, access.own, name)


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
            return Snapshot(
                ref, uids, folder.highest_modseq, folder.uid_next, folder.first_recent_uid, first_unseen, keywords
            )

    async def claim_recent(self, folder_id: uuid.UUID, *, claim: bool) -> range:
        """The UIDs no session has seen as recent yet (RFC 3501 2.3.2), claimed for this
        session when ``claim``: the folder's mark moves to ``uid_next`` by a
        compare-and-set, so of two sessions racing for them exactly one gets them (the
        other reads again, and finds what arrived since, if anything). Nothing is written
        when there is nothing to claim."""
        while True:
            async with self.db() as db:
                row = (
                    await db.execute(select(Folder.first_recent_uid, Folder.uid_next).where(Folder.id == folder_id))
                ).first()
            if row is None or row.first_recent_uid >= row.uid_next:
                return range(0)
            first, uid_next = row
            if not claim:
                return range(first, uid_next)
            async with self.db(write=True) as db:
                moved = await db.execute(
                    update(Folder)
                    .where(Folder.id == folder_id, Folder.first_recent_uid == first)
                    .values(first_recent_uid=uid_next)
                    .execution_options(synchronize_session=False)
                )
                await db.commit()
            if moved.rowcount == 1:
                return range(first, uid_next)

    @staticmethod
    async def keywords(db: AsyncSession, folder_id: uuid.UUID) -> list[str]:
        """The keywords in use in a folder (its FLAGS beyond the system ones)."""
        text = cast(Message.keywords, SqlText)
        rows = await db.execute(select(text).distinct().where(Message.folder_id == folder_id, text != "[]"))
        found: list[str] = []
        for (words,) in rows:
            found += [w for w in json.loads(words or "[]") if w not in found]
        return found

    async def listing(self) -> tuple[Tree, set[str]]:
        """Every folder the user may see (the tree LIST walks), and their subscriptions."""
        async with self.db() as db:
            accesses = await self.accesses(db)
            rows = (
                await db.execute(
                    select(Folder.mailbox_id, Folder.name, Folder.special_use).where(
                        Folder.mailbox_id.in_([a.mailbox.id for a in accesses])
                    )
                )
            ).all()
            subscribed = await subscriptions.names(db, self.user.id)
        by_mailbox = {a.mailbox.id: a for a in accesses}
        nodes: dict[str, Node] = {}
        for mailbox_id, name, special_use in rows:
            access = by_mailbox[mailbox_id]
            if access.own and (name == SHARED or name.startswith(SHARED_PREFIX)):
                continue  # hidden by the shared namespace
            nodes[_external(access, name)] = Node(True, special_use)
        return Tree(nodes), subscribed

    async def status(self, name: str) -> Status:
        async with self.db() as db:
            folder, _ = await self.folder(db, name)
            return await _status(db, folder)

    async def statuses(self, folder_ids: list[uuid.UUID]) -> list[tuple[str, Status]]:
        """The names and counters of those folders the user may view, the others left
        out without a trace (NOTIFY hears of every folder's changes and must never tell
        of one the user may not see)."""
        async with self.db() as db:
            by_mailbox = {access.mailbox.id: access for access in await self.accesses(db)}
            folders = (await db.execute(select(Folder).where(Folder.id.in_(folder_ids)))).scalars().all()
            found = []
            for folder in folders:
                access = by_mailbox.get(folder.mailbox_id)
                if access is None or (access.own and (folder.name == SHARED or folder.name.startswith(SHARED_PREFIX))):
                    continue
                found.append((_external(access, folder.name), await _status(db, folder)))
            return found

    async def mailbox_ids(self) -> set[uuid.UUID]:
        """The mailboxes the user may view now (their own and those granted)."""
        async with self.db() as db:
            return {access.mailbox.id for access in await self.accesses(db)}

    async def known_as(self, folders: list[tuple[str, str]]) -> list[str | None]:
        """The names the user knows folders by, given as (mailbox id, folder name); None
        for a folder of a mailbox they may not view now."""
        async with self.db() as db:
            views = {str(access.mailbox.id): access for access in await self.accesses(db)}
        return [_external(views[mailbox], name) if mailbox in views else None for mailbox, name in folders]

    async def subscribed(self) -> set[str]:
        async with self.db() as db:
            return await subscriptions.names(db, self.user.id)

    async def create(self, name: str) -> uuid.UUID:
        """Create a folder (and its missing parents); its id (RFC 8474 MAILBOXID)."""
        if name.rstrip(DELIMITER) == SHARED:
            raise CommandError("That name is the shared namespace", status="NO", code="CANNOT")
        async with self.db(write=True) as db:
            access, folder_name = self.locate(await self.accesses(db), name)
            if not self.may_write(access):
                raise read_only()
            if await mailboxes.folder_by_name(db, access.mailbox.id, folder_name.rstrip(DELIMITER)) is not None:
                raise CommandError("Mailbox already exists", status="NO", code="ALREADYEXISTS")
            folder = await _service(mailboxes.create_folder(db, access.mailbox, folder_name))
            await db.commit()
            return folder.id

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
            await subscriptions.rename(db, self.user.id, old, new)
            await db.commit()

    async def subscribe(self, name: str, subscribed: bool) -> None:
        """SUBSCRIBE or UNSUBSCRIBE a name, whether a folder has it or not (RFC 3501 6.3.6
        lets a server check; we do not, so that a client may subscribe first)."""
        if not subscriptions.valid(name):
            raise CommandError("Invalid mailbox name", status="NO", code="CANNOT")
        async with self.db(write=True) as db:
            if subscribed:
                await subscriptions.subscribe(db, self.org_id, self.user.id, [name])
            else:
                await subscriptions.unsubscribe(db, self.user.id, name)
            await db.commit()

    # --- ACL (RFC 4314) over delegation --------------------------------------------------

    def rights(self, access: Access) -> str:
        return acl.rights_of(policy.abilities(self.principal, access))

    async def my_rights(self, name: str) -> str:
        """MYRIGHTS: the session's rights on the mailbox a name is in (as in Dovecot, the
        folder itself need not exist)."""
        async with self.db() as db:
            access, _ = self.locate(await self.accesses(db), name)
        return self.rights(access)

    async def _administered(self, db: AsyncSession, name: str) -> Access:
        """The mailbox of an existing folder the session administers: NONEXISTENT for what
        it cannot see, NOPERM for what it sees but does not own (RFC 4314 4: GETACL,
        LISTRIGHTS, SETACL and DELETEACL need the a right)."""
        _, access = await self.folder(db, name)
        if not delegation.may_manage(self.principal, access):
            raise CommandError("You lack administrator rights on this mailbox", status="NO", code="NOPERM")
        return access

    async def _acl(self, db: AsyncSession, access: Access) -> Acl:
        entries = [(access.mailbox.address, acl.OWNER)]
        for person, grant in await delegation.delegates(db, self.principal, access):
            entries.append((person.email, acl.READ + (acl.WRITE if grant.can_write else "")))
        names = (await db.execute(select(Folder.name).where(Folder.mailbox_id == access.mailbox.id))).scalars()
        return Acl(entries, sorted((_external(access, n) for n in names), key=lambda n: (n != INBOX, n.lower())))

    async def get_acl(self, name: str) -> Acl:
        async with self.db() as db:
            return await self._acl(db, await self._administered(db, name))

    async def list_rights(self, name: str, identifier: str) -> list[str]:
        """LISTRIGHTS: what is always granted to ``identifier``, then the sets it may be
        given (nothing for anyone but the owner and active colleagues)."""
        async with self.db() as db:
            access = await self._administered(db, name)
            if identifier.lower() == access.mailbox.address:
                return [acl.OWNER]
            if await delegation.colleague(db, identifier) is None:
                return [""]
        return ["", acl.READ, acl.WRITE]

    async def set_acl(self, name: str, identifier: str, change: str | None) -> Acl:
        """SETACL (``change``) or DELETEACL (None) for a colleague: their grant on the
        whole mailbox becomes what the rights amount to (:func:`.acl.grant_after`)."""
        async with self.db(write=True) as db:
            access = await self._administered(db, name)
            who = await delegation.colleague(db, identifier)
            if identifier.lower() == access.mailbox.address:
                raise acl.cannot("The owner's rights cannot change")
            if who is None:
                if change is None:
                    return await self._acl(db, access)  # nothing to delete, as in Dovecot
                raise acl.cannot("Only active members of your organisation can be given a mailbox")
            current = dict((await self._acl(db, access)).entries).get(who.email, "")
            can_write = None if change is None else acl.grant_after(current, change)
            if can_write is None:
                await delegation.undelegate(db, self.principal, access, who)
            else:
                await _service(delegation.delegate(db, self.principal, access, who.email, can_write=can_write))
            result = await self._acl(db, access)
            await db.commit()
            return result

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


async def _status(db: AsyncSession, folder: Folder) -> Status:
    total, unseen, deleted, size, recent = (
        await db.execute(
            select(
                func.count(),
                func.sum(case((Message.seen.is_(False), 1), else_=0)),
                func.sum(case((Message.deleted.is_(True), 1), else_=0)),
                func.sum(Message.size),
                func.sum(case((Message.uid >= folder.first_recent_uid, 1), else_=0)),
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
        int(recent or 0),
        folder.id,
    )


async def _service(awaitable: Any) -> Any:
    """Service refusals (a name already taken, an invalid name) as IMAP ``NO``."""
    try:
        return await awaitable
    except ServiceError as error:
        raise CommandError(error.message, status="NO", code="CANNOT") from None
