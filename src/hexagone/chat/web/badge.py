"""The unread count beside the chat in the shell's navigation: messages of others after
the person's read markers, in the conversations they have not muted."""

from __future__ import annotations

from hexagone.chat import service
from hexagone.core.auth import Principal
from hexagone.core.db import org_session
from hexagone.core.i18n import ngettext
from hexagone.core.modules import Badge


async def unread(principal: Principal) -> Badge:
    async with org_session(principal.org_id) as db:
        conversations = await service.listing(db, principal)
    count = sum(c.unread for c in conversations if not c.muted)
    return Badge(count, ngettext("unread message", "unread messages", count))
