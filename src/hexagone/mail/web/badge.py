"""The unread count in the shell's navigation, and the "new mail" notification.

The shell loads the count on every page and again every minute. That same check keeps
one notification in the notification centre saying how many messages wait, posted when
mail arrived since the last one and brought up to date while it is still unread: people
who come back find one entry, not one per message.
"""

from __future__ import annotations

from collections.abc import Callable

from hexagone.core import notifications
from hexagone.core.auth import Principal
from hexagone.core.db import utcnow
from hexagone.core.i18n import ngettext
from hexagone.core.modules import Badge
from hexagone.mail.models import Folder
from hexagone.mail.service import mailboxes, store, threads
from hexagone.mail.web.access import Caller, caller_for
from hexagone.mail.web.common import folder_url

MODULE = "mail"


async def new_mail_notice(c: Caller, inbox: Folder, unseen: int) -> Callable[[], None] | None:
    """What to do to the notification that says how many messages wait in the inbox, when
    mail arrived since it was last posted: post it, or bring it up to date while it waits
    unread. None when it is up to date (reading only, which is what almost every call
    finds)."""
    newest = await threads.newest_unseen(c.db, inbox.id) if unseen else None
    if newest is None:
        return None
    last = await notifications.last_from(c.db, c.user.id, MODULE)
    if last is not None and newest <= last.created_at:
        return None
    title = ngettext("%(num)s unread message in your inbox", "%(num)s unread messages in your inbox", unseen)

    def write() -> None:
        if last is not None and last.read_at is None:
            last.title, last.created_at = title, utcnow()
        else:
            notifications.post(
                c.db, org_id=c.user.org_id, user_id=c.user.id, module=MODULE, title=title, link=folder_url(inbox)
            )

    return write


async def inbox_unread(c: Caller) -> tuple[int, Callable[[], None] | None]:
    """The unread count of the caller's inbox (0 before their mailbox exists: a badge
    creates nothing), and what :func:`new_mail_notice` says to do."""
    inbox = await mailboxes.own_inbox(c.db, c.user.id)
    if inbox is None:
        return 0, None
    _total, unseen = (await store.counts(c.db, [inbox.id])).get(inbox.id, (0, 0))
    return unseen, await new_mail_notice(c, inbox, unseen)


async def unread(principal: Principal) -> Badge:
    """The count of unread messages in the inbox, for the shell's navigation. The shell
    asks on every page and every minute, so it reads in a read session, and only when the
    notification must change does it do so again in a write one."""
    async with caller_for(principal) as c:
        unseen, notice = (0, None) if c.user.is_guest else await inbox_unread(c)
    if notice is not None:
        async with caller_for(principal, write=True) as c:
            unseen, notice = await inbox_unread(c)
            if notice is not None:
                notice()
                await c.db.commit()
    return Badge(unseen, ngettext("unread message", "unread messages", unseen))
