"""What every webmail page shares: the folder navigation with its unread counts, folder
names in the reader's language, dates, sizes, the notice shown after a change, and the
form helpers."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from email.utils import getaddresses
from typing import Any
from urllib.parse import urlencode

from babel.dates import format_date, format_datetime, format_time
from babel.numbers import format_decimal
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse

from hexagone.core import templating
from hexagone.core.db import utcnow
from hexagone.core.exceptions import Invalid
from hexagone.core.i18n import get_language
from hexagone.core.i18n import gettext as _
from hexagone.core.web import safe_next
from hexagone.mail.models import Folder, SpecialUse
from hexagone.mail.service import mailboxes, store
from hexagone.mail.service.mailboxes import Access
from hexagone.mail.web.access import Caller

MAX_PAGE = 10_000


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
        special = {
            SpecialUse.DRAFTS: _("Drafts"),
            SpecialUse.SENT: _("Sent messages"),
            SpecialUse.TRASH: _("Trash"),
            SpecialUse.JUNK: _("Junk mail"),
            SpecialUse.ARCHIVE: _("Archives"),
        }.get(folder.special_use or "")
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
    their message and unread counts."""
    accesses = await mailboxes.accessible(c.db, c.user)
    by_mailbox = {a.mailbox.id: await mailboxes.folders(c.db, a.mailbox.id) for a in accesses}
    counts = await store.counts(c.db, [f.id for folders in by_mailbox.values() for f in folders])
    entries = []
    for access in accesses:
        title = _("My mailbox") if access.own else (access.mailbox.display_name or access.mailbox.address)
        folders = [
            FolderEntry(f, folder_label(f), f.name.count(mailboxes.DELIMITER), *counts.get(f.id, (0, 0)))
            for f in by_mailbox[access.mailbox.id]
        ]
        entries.append(MailboxEntry(access, title, folders))
    return entries


def when(moment: datetime | None, *, full: bool = False) -> str:
    """A date as people read it: the time for today, the date otherwise (UTC; the page's
    script shows it in the reader's own time zone)."""
    if moment is None:
        return ""
    lang = get_language()
    if full:
        return format_datetime(moment, "medium", tzinfo=moment.tzinfo, locale=lang) + " UTC"
    if moment.date() == utcnow().date():
        return format_time(moment, "short", tzinfo=moment.tzinfo, locale=lang)
    return format_date(moment, "medium", locale=lang)


def people(value: str) -> str:
    """Who a list row names: display names where the addresses have them ("Ana, bob@x")."""
    found = [name or address for name, address in getaddresses([value]) if name or address]
    return ", ".join(found) or value


def file_size(size: int) -> str:
    if size < 1024:
        return _("%(size)s bytes", size=size)
    if size < 1024 * 1024:
        return _("%(size)s KB", size=round(size / 1024))
    megabytes = format_decimal(size / 1024 / 1024, "#,##0.0", locale=get_language())
    return _("%(size)s MB", size=megabytes)


def notices() -> dict[str, str]:
    return {
        "sent": _("Your message has been sent."),
        "sent_no_copy": _("Your message has been sent, but your mailbox is full: no copy was kept in Sent."),
        "draft": _("The draft is saved."),
        "discarded": _("The draft is deleted."),
        "read": _("Marked as read."),
        "unread": _("Marked as unread."),
        "flagged": _("Flagged."),
        "unflagged": _("Flag removed."),
        "moved": _("Moved."),
        "trashed": _("Moved to the trash."),
        "deleted": _("Deleted for good."),
        "emptied": _("The trash is empty."),
        "folder_created": _("The folder is created."),
        "folder_renamed": _("The folder is renamed."),
        "folder_deleted": _("The folder is deleted."),
        "folder_trashed": _("The folder is in the trash."),
        "saved": _("Saved."),
        "none": _("Select at least one message first."),
        "images": _("Images from this sender will always be shown."),
        "delegate_added": _("Access granted."),
        "delegate_removed": _("Access removed."),
        "app_password_revoked": _("The app password is revoked: the client using it is signed out."),
    }


def render(
    request: Request, template: str, context: dict[str, Any], *, status: int = 200, error: str | None = None
) -> HTMLResponse:
    values = {
        "when": when,
        "file_size": file_size,
        "people": people,
        "error": error,
        "notice": None if error else notices().get(request.query_params.get("done", "")),
        **context,
    }
    return templating.render(request, template, values, status_code=status)


def done(target: str, notice: str, form: FormData | None = None) -> RedirectResponse:
    """Back to ``target`` (or the form's same-site ``next``) after a change, with a notice."""
    target = safe_next(text(form, "next", 1000), target) if form is not None else target
    separator = "&" if "?" in target else "?"
    return RedirectResponse(f"{target}{separator}{urlencode({'done': notice})}", status_code=303)


def text(form: FormData | None, name: str, max_length: int = 1000) -> str:
    """A text field of a posted form ('' when absent)."""
    value = form.get(name, "") if form is not None else ""
    if not isinstance(value, str):
        raise Invalid(_("The field %(name)s must be text.", name=name))
    if len(value) > max_length:
        raise Invalid(_("The field %(name)s is too long.", name=name))
    return value


def required_uuid(form: FormData, name: str) -> uuid.UUID:
    try:
        return uuid.UUID(text(form, name, 64))
    except ValueError:
        raise Invalid(_("Invalid identifier.")) from None


def page_number(request: Request) -> int:
    value = request.query_params.get("page", "1")
    return min(int(value), MAX_PAGE) if value.isdigit() and int(value) > 0 else 1


def folder_url(folder: Folder) -> str:
    return f"/mail/folders/{folder.id}"
