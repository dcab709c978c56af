"""Mail's unified-search provider: messages whose subject or sender matches, in the
mailboxes the core policy lets the person read (their own and those granted to them).
Guests have no mailbox, so they find nothing here. Each result opens the webmail's
reading page."""

from __future__ import annotations

from hexagone.core.auth import Principal
from hexagone.core.db import org_session
from hexagone.core.i18n import gettext as _
from hexagone.core.modules import SearchHit
from hexagone.mail.service import reading


async def messages(principal: Principal, query: str, limit: int) -> list[SearchHit]:
    async with org_session(principal.org_id) as db:
        found = await reading.find(db, principal, query, limit)
    return [
        SearchHit(
            kind=_("Message"),
            title=message.subject or _("(no subject)"),
            subtitle=f"{message.from_addr} · {mailbox.display_name or mailbox.address}",
            url=f"/mail/messages/{message.id}",
        )
        for message, mailbox in found
    ]
