"""The unread count in the shell's navigation, and the "new mail" notification.

The shell loads the count on every page and again every minute. That same check posts
one notification to the notification centre when mail arrived in the inbox since the
last one and none is waiting unread: people who are away find one entry saying how many
messages wait, not one per message.
"""

from __future__ import annotations

from sqlalchemy import func, select
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from hexagone.core import notifications, templating
from hexagone.core.i18n import ngettext
from hexagone.core.models import Notification
from hexagone.core.web import login_required
from hexagone.identity.service.directory import OrgRole
from hexagone.mail.models import Folder, Message
from hexagone.mail.service import mailboxes, store
from hexagone.mail.web.access import Caller, caller
from hexagone.mail.web.common import folder_url

MODULE = "mail"


async def notify_new_mail(c: Caller, inbox: Folder, unseen: int) -> None:
    newest = (await c.db.execute(select(func.max(Message.internal_date))
                                 .where(Message.folder_id == inbox.id, Message.seen.is_(False)))).scalar()
    if newest is None:
        return
    mine = select(Notification).where(Notification.user_id == c.user.id, Notification.module == MODULE)
    last = (await c.db.execute(mine.with_only_columns(func.max(Notification.created_at)))).scalar()
    waiting = (await c.db.execute(mine.where(Notification.read_at.is_(None)).limit(1))).first()
    if waiting is None and (last is None or newest > last):
        notifications.post(c.db, org_id=c.user.org_id, user_id=c.user.id, module=MODULE,
                           title=ngettext("%(num)s unread message in your inbox", "%(num)s unread messages in your inbox",
                                          unseen), link=folder_url(inbox))


@login_required
async def unread(request: Request) -> Response:
    """The count of unread messages in the inbox, as a fragment (empty when none)."""
    async with caller(request, write=True) as c:
        if c.user.role == OrgRole.GUEST:
            return HTMLResponse("")
        own = await c.own_mailbox()
        inbox = await mailboxes.folder_by_name(c.db, own.id, mailboxes.INBOX)
        if inbox is None:
            return HTMLResponse("")
        _total, unseen = (await store.counts(c.db, [inbox.id])).get(inbox.id, (0, 0))
        await notify_new_mail(c, inbox, unseen)
        await c.db.commit()
    return templating.render(request, "mail/_unread.html", {"count": unseen},
                             headers={"cache-control": "private, no-store"})


ROUTES = [Route("/unread", unread)]
