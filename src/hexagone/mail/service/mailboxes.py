"""Mailboxes, their folders and who may open them.

A user's mailbox is created the first time anything needs it (a delivery, an IMAP login,
a webmail visit): an organisation that subscribes to mail has every member's mailbox at
once, without a migration step. Guests have no mailbox.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Select, and_, delete, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from hexagone.core.config import get_settings
from hexagone.core.exceptions import Conflict, Forbidden, Invalid, NotFound
from hexagone.core.i18n import gettext as _
from hexagone.identity.service import Person
from hexagone.mail.models import DELIMITER, INBOX, Folder, Mailbox, MailboxGrant, MailboxKind, Message, SpecialUse
from hexagone.mail.service import subscriptions

DEFAULT_FOLDERS: list[tuple[str, str | None]] = [
    (INBOX, None),
    ("Drafts", SpecialUse.DRAFTS),
    ("Sent", SpecialUse.SENT),
    ("Archive", SpecialUse.ARCHIVE),
    ("Junk", SpecialUse.JUNK),
    ("Trash", SpecialUse.TRASH),
]
MAX_FOLDER_NAME = 500


@dataclass(frozen=True)
class Access:
    """A mailbox as one user may use it: their own, or through a grant. It is the object
    mail's rule in the core policy judges (:mod:`hexagone.mail.policy`): loaded once per
    request, it carries whose access it is, so that it grants nothing to anyone else."""

    mailbox: Mailbox
    user_id: uuid.UUID
    own: bool
    can_write: bool
    can_send_as: bool

    @property
    def org_id(self) -> uuid.UUID:
        """The mailbox's organisation: the core policy grants nothing across organisations."""
        return self.mailbox.org_id


def new_uidvalidity() -> int:
    """A UIDVALIDITY that differs for a folder deleted and re-created under one name."""
    return random.randint(1, 2**31 - 1)


async def _add_folders(db: AsyncSession, mailbox: Mailbox) -> None:
    await db.flush()  # the mailbox row first: no ORM relationship orders the inserts
    for name, special in DEFAULT_FOLDERS:
        db.add(
            Folder(
                org_id=mailbox.org_id,
                mailbox_id=mailbox.id,
                name=name,
                special_use=special,
                uidvalidity=new_uidvalidity(),
            )
        )


async def user_mailbox(db: AsyncSession, user: Person) -> Mailbox:
    """The user's own mailbox, created with its default folders on first use. Several
    first uses at once (a phone's ten connections signing in together) race to create it:
    the losers' inserts are refused by the unique address, in a savepoint, and they take
    the winner's mailbox."""
    mailbox = (await db.execute(select(Mailbox).where(Mailbox.user_id == user.id))).scalar_one_or_none()
    if mailbox is not None:
        return mailbox
    if user.is_guest:
        raise Forbidden(_("Guests have no mailbox."))
    mailbox = Mailbox(
        id=uuid.uuid4(),
        org_id=user.org_id,
        kind=MailboxKind.USER,
        user_id=user.id,
        address=user.email.lower(),
        display_name=user.display_name,
        quota_bytes=get_settings().mail_default_quota_bytes,
    )
    try:
        async with db.begin_nested():
            db.add(mailbox)
            await _add_folders(db, mailbox)
            await db.flush()
            await subscriptions.subscribe(db, mailbox.org_id, user.id, [name for name, _ in DEFAULT_FOLDERS])
    except IntegrityError:
        return (await db.execute(select(Mailbox).where(Mailbox.user_id == user.id))).scalar_one()
    return mailbox


async def create_shared_mailbox(db: AsyncSession, org_id: uuid.UUID, address: str, display_name: str) -> Mailbox:
    address = address.strip().lower()
    if (await db.execute(select(Mailbox.id).where(Mailbox.address == address))).first() is not None:
        raise Conflict(_("This address is already in use."))
    mailbox = Mailbox(
        id=uuid.uuid4(),
        org_id=org_id,
        kind=MailboxKind.SHARED,
        address=address,
        display_name=display_name.strip() or address,
        quota_bytes=get_settings().mail_default_quota_bytes,
    )
    db.add(mailbox)
    await _add_folders(db, mailbox)
    await db.flush()
    return mailbox


async def grant(
    db: AsyncSession, mailbox: Mailbox, user_id: uuid.UUID, *, can_write: bool = True, can_send_as: bool = False
) -> MailboxGrant:
    if mailbox.user_id == user_id:
        raise Invalid(_("The owner of a mailbox needs no grant."))
    existing = (
        await db.execute(
            select(MailboxGrant).where(MailboxGrant.mailbox_id == mailbox.id, MailboxGrant.user_id == user_id)
        )
    ).scalar_one_or_none()
    if existing is None:  # a new grantee sees every folder in clients that show subscribed ones only
        existing = MailboxGrant(org_id=mailbox.org_id, mailbox_id=mailbox.id, user_id=user_id)
        db.add(existing)
        await subscriptions.subscribe_mailbox(db, mailbox, user_id, own=False)
    existing.can_write = can_write
    existing.can_send_as = can_send_as
    await db.flush()
    return existing


async def revoke(db: AsyncSession, mailbox: Mailbox, user_id: uuid.UUID) -> None:
    await db.execute(delete(MailboxGrant).where(MailboxGrant.mailbox_id == mailbox.id, MailboxGrant.user_id == user_id))


def _access(mailbox: Mailbox, user_id: uuid.UUID, grant: MailboxGrant | None) -> Access:
    """``user_id``'s access to ``mailbox``: their own when no grant leads to it."""
    if grant is None:
        return Access(mailbox, user_id, True, True, True)
    return Access(mailbox, user_id, False, grant.can_write, grant.can_send_as)


async def accessible(db: AsyncSession, user: Person) -> list[Access]:
    """The user's own mailbox first (created on first use), then those granted to them,
    by address: one statement when the own mailbox exists."""
    found = await existing_accesses(db, user.id)
    own = next((a for a in found if a.own), None) or _access(await user_mailbox(db, user), user.id, None)
    granted = sorted((a for a in found if not a.own), key=lambda a: a.mailbox.address)
    return [own, *granted]


def _accesses(user_id: uuid.UUID, *criteria: ColumnElement[bool]) -> Select[Mailbox, MailboxGrant]:
    """The mailboxes ``user_id`` owns or is granted, with the grant (None for their own)."""
    return (
        select(Mailbox, MailboxGrant)
        .outerjoin(MailboxGrant, and_(MailboxGrant.mailbox_id == Mailbox.id, MailboxGrant.user_id == user_id))
        .where(or_(Mailbox.user_id == user_id, MailboxGrant.id.is_not(None)), *criteria)
    )


async def existing_accesses(db: AsyncSession, user_id: uuid.UUID) -> list[Access]:
    """The user's accesses to the mailboxes that exist, creating nothing (a search must not
    write): their own if it exists yet, and those granted to them. One query."""
    rows = await db.execute(_accesses(user_id))
    return [_access(m, user_id, g) for m, g in rows.all()]


async def access_to(db: AsyncSession, user: Person, mailbox_id: uuid.UUID) -> Access:
    """The user's access to one mailbox; NotFound (never Forbidden) for one they may not
    open, so that a guess tells nothing about what exists. One query."""
    row = (await db.execute(_accesses(user.id, Mailbox.id == mailbox_id))).first()
    if row is None:
        raise NotFound(_("No such mailbox."))
    return _access(row[0], user.id, row[1])


async def folders(db: AsyncSession, mailbox_id: uuid.UUID) -> list[Folder]:
    result = await db.execute(select(Folder).where(Folder.mailbox_id == mailbox_id).order_by(Folder.name))
    folders = list(result.scalars())
    folders.sort(key=lambda f: (f.name != INBOX, f.name.lower()))
    return folders


async def own_inbox(db: AsyncSession, user_id: uuid.UUID) -> Folder | None:
    """The INBOX of the user's own mailbox, None before it exists (creating nothing)."""
    query = select(Folder).join(Mailbox, Mailbox.id == Folder.mailbox_id)
    return (await db.execute(query.where(Mailbox.user_id == user_id, Folder.name == INBOX))).scalar_one_or_none()


async def folder_by_name(db: AsyncSession, mailbox_id: uuid.UUID, name: str) -> Folder | None:
    if name.upper() == INBOX:
        name = INBOX
    return (
        await db.execute(select(Folder).where(Folder.mailbox_id == mailbox_id, Folder.name == name))
    ).scalar_one_or_none()


async def folder_by_special_use(db: AsyncSession, mailbox_id: uuid.UUID, special: str) -> Folder | None:
    return (
        (
            await db.execute(
                select(Folder)
                .where(Folder.mailbox_id == mailbox_id, Folder.special_use == special)
                .order_by(Folder.created_at)
            )
        )
        .scalars()
        .first()
    )


def check_folder_name(name: str) -> str:
    name = name.strip(DELIMITER)
    parts = name.split(DELIMITER)
    if not name or len(name) > MAX_FOLDER_NAME or any(not p.strip() for p in parts):
        raise Invalid(_("Invalid folder name."))
    if any(ord(ch) < 32 or ch in "*%" for ch in name):
        raise Invalid(_("Folder names may not contain control characters, * or %."))
    return INBOX + name[5:] if name.upper().startswith(INBOX + DELIMITER) or name.upper() == INBOX else name


async def create_folder(db: AsyncSession, mailbox: Mailbox, name: str, special_use: str | None = None) -> Folder:
    name = check_folder_name(name)
    if await folder_by_name(db, mailbox.id, name) is not None:
        raise Conflict(_("A folder of that name exists."))
    # Parents are created as needed, as RFC 3501 CREATE allows.
    parts = name.split(DELIMITER)
    made: list[Folder] = []
    for depth in range(1, len(parts)):
        parent = DELIMITER.join(parts[:depth])
        if await folder_by_name(db, mailbox.id, parent) is None:
            made.append(
                Folder(org_id=mailbox.org_id, mailbox_id=mailbox.id, name=parent, uidvalidity=new_uidvalidity())
            )
    folder = Folder(
        org_id=mailbox.org_id, mailbox_id=mailbox.id, name=name, special_use=special_use, uidvalidity=new_uidvalidity()
    )
    made.append(folder)
    db.add_all(made)
    await db.flush()
    from hexagone.mail.service import store  # store builds on this module

    for one in made:
        store.announce_name(db, one, "created")
    return folder


async def rename_folder(db: AsyncSession, mailbox: Mailbox, old: str, new: str) -> None:
    """Rename a folder and its children. Renaming INBOX moves its messages to a new
    folder and leaves INBOX empty (RFC 3501 6.3.5)."""
    folder = await folder_by_name(db, mailbox.id, old)
    if folder is None:
        raise NotFound(_("No such folder."))
    new = check_folder_name(new)
    if await folder_by_name(db, mailbox.id, new) is not None:
        raise Conflict(_("A folder of that name exists."))
    if folder.name == INBOX:
        target = await create_folder(db, mailbox, new)
        from hexagone.mail.service import store  # store builds on this module

        await store.move_all(db, folder, target)
        return
    children = (
        await db.execute(
            select(Folder).where(
                Folder.mailbox_id == mailbox.id, Folder.name.startswith(folder.name + DELIMITER, autoescape=True)
            )
        )
    ).scalars()
    from hexagone.mail.service import store  # store builds on this module

    for child in children:
        before, child.name = child.name, new + child.name[len(folder.name) :]
        store.announce_name(db, child, "renamed", before)
    before, folder.name = folder.name, new
    store.announce_name(db, folder, "renamed", before)
    await db.flush()


async def delete_folder(db: AsyncSession, mailbox: Mailbox, name: str) -> list[str]:
    """Delete a folder and its messages; returns the blob keys that may now be unused.
    The mailbox is locked first, and the quota credited with the rows this transaction
    deleted (the lock order of :mod:`hexagone.mail.service.store`)."""
    from hexagone.mail.service import store  # store builds on this module

    await store.lock_mailboxes(db, [mailbox.id])
    folder = await folder_by_name(db, mailbox.id, name)
    if folder is None:
        raise NotFound(_("No such folder."))
    if folder.name == INBOX:
        raise Invalid(_("INBOX cannot be deleted."))
    removed = (
        await db.execute(
            delete(Message).where(Message.folder_id == folder.id).returning(Message.size, Message.blob_key)
        )
    ).all()
    await db.execute(
        update(Mailbox)
        .where(Mailbox.id == mailbox.id)
        .values(used_bytes=Mailbox.used_bytes - sum(row.size for row in removed))
        .execution_options(synchronize_session=False)
    )
    keys = [row.blob_key for row in removed]
    store.announce_name(db, folder, "deleted")
    await db.delete(folder)
    await db.flush()
    return keys
