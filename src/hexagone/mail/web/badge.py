"""The unread count in the shell's navigation, and the "new mail" notification.

The shell loads the count on every page and again every minute. That same check keeps
one notification in the notification centre saying how many messages wait, posted when
mail arrived since the last one and brought up to date while it is still unread: people
who come back find one entry, not one per message.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from hexagone.core import notifications, templating
from hexagone.core.db import utcnow
from hexagone.core.i18n import ngettext
from hexagone.core.web import login_required
from hexagone.mail.models import Folder
from hexagone.mail.service import mailboxes, store, threads
from hexagone.mail.web.access import Caller, caller
from hexagone.mail.web.common import folder_url

MODULE = "mail"


async def notify_new_mail(c: Caller, inbox: Folder, unseen: int) -> None:
    """Post (or bring up to date, while it waits unread) the one notification that says
    how many messages wait in the inbox, when mail arrived since it was last posted."""
    newest = await threads.newest_unseen(c.db, inbox.id)
    if newest is None:
        return
    last = await notifications.last_from(c.db, c.user.id, MODULE)
    if last is not None and newest <= last.created_at:
        return
    title = ngettext("%(num)s unread message in your inbox", "%(num)s unread messages in your inbox", unseen)
    if last is not None and last.read_at is None:
        last.title, last.created_at = title, utcnow()
    else:
        notifications.post(
            c.db, org_id=c.user.org_id, user_id=c.user.id, module=MODULE, title=title, link=folder_url(inbox)
        )


@login_required
async def unread(request: Request) -> Response:
    """The count of unread messages in the inbox, as a fragment (empty when none)."""
    async with caller(request, write=True) as c:
        if c.user.is_guest:
            return HTMLResponse("")
        own = await c.own_mailbox()
        inbox = await mailboxes.folder_by_name(c.db, own.id, mailboxes.INBOX)
        if inbox is None:
            return HTMLResponse("")
        _total, unseen = (await store.counts(c.db, [inbox.id])).get(inbox.id, (0, 0))
        await notify_new_mail(c, inbox, unseen)
        await c.db.commit()
    return templating.render(
        request, "mail/_unread.html", {"count": unseen}, headers={"cache-control": "private, no-store"}
    )


ROUTES = [Route("/unread", unread)]
