"""Folders: the list of a folder's conversations (or a search's messages), and making
and renaming folders (deleting them is :mod:`deleting`)."""

from __future__ import annotations

import uuid

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from hexagone.core.exceptions import Invalid, NotFound, ServiceError
from hexagone.core.forms import field
from hexagone.core.i18n import gettext as _
from hexagone.core.pages import done, page_number, pager, render
from hexagone.core.web import login_required
from hexagone.mail.models import SpecialUse
from hexagone.mail.service import mailboxes, store, subscriptions, threads
from hexagone.mail.web.access import abilities, caller, folder_for, mailbox_for
from hexagone.mail.web.common import folder_label, folder_url, full_label, navigation, people

MAX_QUERY = 200


@login_required
async def home(request: Request) -> Response:
    async with caller(request, write=True) as c:
        own = await c.own_mailbox()
        inbox = await mailboxes.folder_by_name(c.db, own.id, mailboxes.INBOX)
        await c.db.commit()  # a first visit creates the mailbox
    assert inbox is not None, "every mailbox has an INBOX"
    query = f"?{request.url.query}" if request.url.query else ""
    return RedirectResponse(folder_url(inbox) + query, status_code=303)


@login_required
async def folder_page(request: Request) -> Response:
    """A folder's conversations, newest first; with ``q``, the messages that match it in
    this folder, or in the whole mailbox with ``scope=all``."""
    query = request.query_params.get("q", "").strip()[:MAX_QUERY]
    everywhere = request.query_params.get("scope") == "all"
    async with caller(request) as c:
        folder, access = await folder_for(c, request.path_params["folder_id"])
        number = page_number(request)
        if query:
            listing = await threads.search(c.db, folder.mailbox_id, query, None if everywhere else folder.id, number)
        else:
            listing = await threads.conversations(c.db, folder, number)
        nav = await navigation(c)
        # the folders a message can be moved to: this mailbox's, from the navigation
        siblings = next((e.folders for e in nav if e.access.mailbox.id == folder.mailbox_id), [])
        context = {
            "folder": folder,
            "folder_name": folder_label(folder),
            "access": access,
            "can": abilities(c, access),
            "listing": listing,
            "query": query,
            "everywhere": everywhere,
            "mailboxes": nav,
            "current_folder": folder.id,
            "targets": [f.folder for f in siblings if f.folder.id != folder.id],
            "full_label": full_label,
            "is_trash": folder.special_use == SpecialUse.TRASH,
            "outgoing": folder.special_use in (SpecialUse.SENT, SpecialUse.DRAFTS),
            "emptiable": folder.special_use in (SpecialUse.TRASH, SpecialUse.JUNK),
            "people": people,
            "pager": pager(request, number, has_next=listing.number < listing.pages),
        }
    return render(request, "mail/folder.html", context)


async def manage_page(request: Request, error: ServiceError | None = None) -> Response:
    """The folders page, with ``error`` above it when a change was refused."""
    async with caller(request) as c:
        access = await mailbox_for(c, request.path_params["mailbox_id"])
        folders = await mailboxes.folders(c.db, access.mailbox.id)
        counts = await store.counts(c.db, [f.id for f in folders])
        trash = next((f for f in folders if f.special_use == SpecialUse.TRASH), None)
        in_trash = {f.id for f in folders if trash and f.name.startswith(trash.name + mailboxes.DELIMITER)}
        context = {
            "access": access,
            "can": abilities(c, access),
            "folders": folders,
            "counts": counts,
            "folder_label": folder_label,
            "in_trash": in_trash,
            "full_label": full_label,
            "mailboxes": await navigation(c),
        }
    return render(
        request,
        "mail/folders.html",
        context,
        error,
    )


@login_required
async def manage(request: Request) -> Response:
    """The mailbox's folders, with the forms to create, rename and delete them."""
    if request.method == "GET":
        return await manage_page(request)
    form = await request.form()
    try:
        async with caller(request, write=True) as c:
            access = await mailbox_for(c, request.path_params["mailbox_id"], write=True)
            name = field(form, "name", mailboxes.MAX_FOLDER_NAME).strip()
            parent = field(form, "parent", mailboxes.MAX_FOLDER_NAME).strip()
            path = f"{parent}{mailboxes.DELIMITER}{name}" if parent else name
            folder = await mailboxes.create_folder(c.db, access.mailbox, path)
            await subscriptions.follow_new(c.db, access, folder.name)
            await c.db.commit()
    except ServiceError as exc:
        if isinstance(exc, NotFound):
            raise
        return await manage_page(request, exc)
    return done(request.url.path, "folder_created")


async def refused(request: Request, mailbox_id: uuid.UUID | None, error: ServiceError) -> Response:
    """A refused change to a folder: the folders page again with the reason, unless the
    folder is not the caller's to see (then 404, as for an id that does not exist)."""
    if isinstance(error, NotFound) or mailbox_id is None:
        raise error
    request.scope["path_params"] = {"mailbox_id": mailbox_id}
    return await manage_page(request, error)


@login_required
async def rename(request: Request) -> Response:
    form = await request.form()
    mailbox_id = None
    try:
        async with caller(request, write=True) as c:
            folder, access = await folder_for(c, request.path_params["folder_id"], write=True)
            mailbox_id = access.mailbox.id
            if folder.name == mailboxes.INBOX or folder.special_use:
                raise Invalid(_("The standard folders cannot be renamed or deleted."))
            name = field(form, "name", mailboxes.MAX_FOLDER_NAME).strip()
            parent = folder.name.rpartition(mailboxes.DELIMITER)[0]
            old = folder.name
            await mailboxes.rename_folder(
                c.db, access.mailbox, old, f"{parent}{mailboxes.DELIMITER}{name}" if parent else name
            )
            await subscriptions.follow_rename(c.db, access, old, folder.name)
            await c.db.commit()
    except ServiceError as exc:
        return await refused(request, mailbox_id, exc)
    return done(f"/mail/mailboxes/{mailbox_id}/folders", "folder_renamed")


ROUTES = [
    Route("/", home),
    Route("/folders/{folder_id:uuid}", folder_page),
    Route("/mailboxes/{mailbox_id:uuid}/folders", manage, methods=["GET", "POST"]),
    Route("/folders/{folder_id:uuid}/rename", rename, methods=["POST"]),
]
