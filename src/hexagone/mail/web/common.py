"""What is the webmail's own in every page: the folder navigation with its unread counts,
folder names in the reader's language, and who a list row names. (Rendering, notices,
forms, dates and sizes are the core page kit's: :mod:`hexagone.core.pages`.)"""

from __future__ import annotations

from dataclasses import dataclass
from email.utils import getaddresses
from functools import lru_cache

from hexagone.core.i18n import gettext as _
from hexagone.mail.models import Folder, SpecialUse
from hexagone.mail.service import mailboxes, threads
from hexagone.mail.service.mailboxes import Access
from hexagone.mail.web.access import Caller


@dataclass(frozen=True)
class FolderEntry:
    folder: Folder
    label: str
    depth: int
    total: int
    unseen: int


@dataclass(frozen=True)
class MailboxEntry:
    access: Access
    title: str
    folders: list[FolderEntry]


def folder_label(folder: Folder) -> str:
    """The name a reader sees: the standard folders in their language, others as named
    (last segment of the path; the depth shows the hierarchy)."""
    if folder.name == mailboxes.INBOX:
        return _("Inbox")
    if mailboxes.DELIMITER not in folder.name:
        labels: dict[str, str] = {
            SpecialUse.DRAFTS: _("Drafts"),
            SpecialUse.SENT: _("Sent messages"),
            SpecialUse.TRASH: _("Trash"),
            SpecialUse.JUNK: _("Junk mail"),
            SpecialUse.ARCHIVE: _("Archives"),
        }
        special = labels.get(folder.special_use or "")
        if special:
            return special
    return folder.name.rsplit(mailboxes.DELIMITER, 1)[-1]


def full_label(folder: Folder) -> str:
    """A folder's name with its parents ("Projects / 2026"), for lists of every folder."""
    if folder.name == mailboxes.INBOX or (folder.special_use and mailboxes.DELIMITER not in folder.name):
        return folder_label(folder)
    return folder.name.replace(mailboxes.DELIMITER, " / ")


async def navigation(c: Caller) -> list[MailboxEntry]:
    """Every mailbox the caller may open (their own first), each with its folders and
    their message and unread counts (all the folders in one statement)."""
    accesses = await mailboxes.accessible(c.db, c.user)
    by_mailbox = await threads.folders_with_counts(c.db, [a.mailbox.id for a in accesses])
    entries = []
    for access in accesses:
        title = _("My mailbox") if access.own else (access.mailbox.display_name or access.mailbox.address)
        folders = [
            FolderEntry(f.folder, folder_label(f.folder), f.folder.name.count(mailboxes.DELIMITER), f.total, f.unseen)
            for f in by_mailbox[access.mailbox.id]
        ]
        entries.append(MailboxEntry(access, title, folders))
    return entries


@lru_cache(maxsize=4096)
def people(value: str) -> str:
    """Who a list row names: display names where the addresses have them ("Ana, bob@x").
    Kept per header value: the same senders come back row after row, and parsing an
    address list costs 15 µs."""
    found = [name or address for name, address in getaddresses([value]) if name or address]
    return ", ".join(found) or value


def folder_url(folder: Folder) -> str:
    return f"/mail/folders/{folder.id}"
