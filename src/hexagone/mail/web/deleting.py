"""Deleting folders and emptying the trash, as Thunderbird does: a folder deleted anywhere
else goes into the trash whole (its subfolders and messages with it, nothing lost, the
quota unchanged); only what is already in the trash is destroyed, and only after a
confirmation page (a plain form: it works from the keyboard and without JavaScript).

A post without ``confirm`` never destroys anything: it shows the confirmation page, so a
forged or replayed click (a stale form, a double submission) cannot empty the trash.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from hexagone.core.exceptions import Conflict, Invalid, ServiceError
from hexagone.core.forms import field
from hexagone.core.i18n import gettext as _
from hexagone.core.pages import done, render
from hexagone.core.web import login_required
from hexagone.mail.models import Folder, Mailbox, SpecialUse
from hexagone.mail.service import mailboxes, store, subscriptions
from hexagone.mail.web.access import Caller, caller, folder_for, special_folder
from hexagone.mail.web.common import folder_url, full_label, navigation
from hexagone.mail.web.folders import refused

EMPTIABLE = (SpecialUse.TRASH, SpecialUse.JUNK)
# "Projets", "Projets 2", … when the trash already holds a folder of that name; a bound so
# that a name taken thousands of times is refused rather than probed forever.
MAX_SAME_NAME = 100


def _inside(folder: Folder, parent: Folder) -> bool:
    return folder.name.startswith(parent.name + mailboxes.DELIMITER)


async def _subtree(db: AsyncSession, folder: Folder) -> list[Folder]:
    """The folder and every folder under it, deepest first (the order to delete them in).
    Compared in Python, not with LIKE, so that ``_`` in a name matches only itself."""
    below = [f for f in await mailboxes.folders(db, folder.mailbox_id) if _inside(f, folder)]
    return [*sorted(below, key=lambda f: f.name.count(mailboxes.DELIMITER), reverse=True), folder]


def _check_deletable(folder: Folder, tree: list[Folder]) -> None:
    if any(f.name == mailboxes.INBOX or f.special_use for f in tree):
        raise Invalid(_("The standard folders cannot be renamed or deleted."))


async def _free_name(db: AsyncSession, mailbox: Mailbox, trash: Folder, folder: Folder) -> str:
    leaf = folder.name.rsplit(mailboxes.DELIMITER, 1)[-1]
    for number in range(1, MAX_SAME_NAME + 1):
        name = f"{trash.name}{mailboxes.DELIMITER}{leaf}" + (f" {number}" if number > 1 else "")
        if await mailboxes.folder_by_name(db, mailbox.id, name) is None:
            return name
    raise Conflict(_("The trash already holds too many folders of that name: empty it first."))


async def _destroy(db: AsyncSession, mailbox: Mailbox, tree: list[Folder]) -> None:
    """Delete folders and their messages for good (the quota follows, the blobs are
    collected later if no other message shares them)."""
    for folder in tree:
        store.forget_blobs(db, mailbox.org_id, await mailboxes.delete_folder(db, mailbox, folder.name))


async def _empty(db: AsyncSession, mailbox: Mailbox, folder: Folder) -> None:
    """Everything in the trash (or the junk folder) for good, its subfolders included;
    the folder itself stays, and so does a standard folder a mail client moved in there
    (the folders above it are emptied, not deleted, so that none is left without its
    parent)."""
    below = (await _subtree(db, folder))[:-1]
    standard = [f for f in below if f.special_use]
    holders = [f for f in below if not f.special_use and any(_inside(k, f) for k in standard)]
    for emptied in [folder, *holders]:
        await store.empty(db, emptied)
    await _destroy(db, mailbox, [f for f in below if not f.special_use and f not in holders])


async def _confirmation(
    request: Request, c: Caller, folder: Folder, tree: list[Folder], *, emptying: bool = False, forever: bool = True
) -> Response:
    """The page that asks before anything is destroyed (``forever``), or that says where a
    folder goes (the trash) when it is opened as a link: what goes, and the two choices."""
    counts = await store.counts(c.db, [f.id for f in tree])
    name = full_label(folder)
    if emptying:
        heading, button = _("Empty %(folder)s?", folder=name), _("Empty for good")
    elif forever:
        heading, button = _("Delete %(folder)s for good?", folder=name), _("Delete for good")
    else:
        heading, button = _("Move %(folder)s to the trash?", folder=name), _("Move to the trash")
    context = {
        "heading": heading,
        "button": button,
        "forever": forever,
        "messages": sum(counts.get(f.id, (0, 0))[0] for f in tree),
        "subfolders": len(tree) - 1,
        "action": f"/mail/folders/{folder.id}/{'empty' if emptying else 'delete'}",
        "back": folder_url(folder) if emptying else f"/mail/mailboxes/{folder.mailbox_id}/folders",
        "mailboxes": await navigation(c),
        "current_folder": folder.id,
    }
    return render(request, "mail/confirm_delete.html", context)


@login_required
async def delete(request: Request) -> Response:
    """A folder outside the trash goes into it, whole; one in the trash is deleted for
    good once confirmed (``GET`` and an unconfirmed ``POST`` show the confirmation)."""
    form = await request.form() if request.method == "POST" else None
    mailbox_id = None
    try:
        async with caller(request, write=True) as c:
            folder, access = await folder_for(c, request.path_params["folder_id"], write=True)
            mailbox_id = access.mailbox.id
            tree = await _subtree(c.db, folder)
            _check_deletable(folder, tree)
            trash = await special_folder(c.db, access.mailbox, SpecialUse.TRASH, "Trash")
            if _inside(folder, trash):
                if field(form, "confirm", 1) != "1":
                    return await _confirmation(request, c, folder, tree)
                await _destroy(c.db, access.mailbox, tree)
                notice = "folder_deleted"
            elif form is None:
                return await _confirmation(request, c, folder, tree, forever=False)
            else:
                old = folder.name
                await mailboxes.rename_folder(
                    c.db, access.mailbox, old, await _free_name(c.db, access.mailbox, trash, folder)
                )
                await subscriptions.follow_rename(c.db, access, old, folder.name)
                notice = "folder_trashed"
            await c.db.commit()
    except ServiceError as exc:
        return await refused(request, mailbox_id, exc)
    return done(f"/mail/mailboxes/{mailbox_id}/folders", notice)


@login_required
async def empty(request: Request) -> Response:
    """Delete for good everything in the trash (or the junk folder), once confirmed."""
    form = await request.form() if request.method == "POST" else None
    async with caller(request, write=True) as c:
        folder, access = await folder_for(c, request.path_params["folder_id"], write=True)
        if folder.special_use not in EMPTIABLE:
            raise Invalid(_("Only the trash and the junk folder can be emptied."))
        if field(form, "confirm", 1) != "1":
            return await _confirmation(request, c, folder, await _subtree(c.db, folder), emptying=True)
        await _empty(c.db, access.mailbox, folder)
        await c.db.commit()
        back = folder_url(folder)
    return done(back, "emptied", form)


ROUTES = [
    Route("/folders/{folder_id:uuid}/delete", delete, methods=["GET", "POST"]),
    Route("/folders/{folder_id:uuid}/empty", empty, methods=["GET", "POST"]),
]
