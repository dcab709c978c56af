"""The chat's unified-search provider: messages whose text holds the words (whatever
their accents and case: ``chat_messages.folded``), in the conversations the principal
can read (their spaces' channels, the channels and direct conversations they are in, and
the organisation's public channels unless they are a guest), newest first."""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_, or_, select

from hexagone.chat.models import Channel, ChannelKind, Member, Message
from hexagone.core.auth import Principal
from hexagone.core.db import like_escape, org_session, search_folded
from hexagone.core.i18n import gettext as _
from hexagone.core.modules import SearchHit


async def messages(principal: Principal, query: str, limit: int) -> list[SearchHit]:
    query = " ".join(query.replace("\x00", "").split())[:200]
    if not query:
        return []
    readable: list[ColumnElement[bool]] = [
        Channel.id.in_(select(Member.channel_id).where(Member.user_id == principal.user_id)),
    ]
    if principal.space_ids:
        readable.append(Channel.space_id.in_(list(principal.space_ids)))
    if not principal.is_guest:
        readable.append(Channel.kind == ChannelKind.PUBLIC)
    stmt = (
        select(Message.id, Message.channel_id, Message.text, Channel.name, Channel.kind)
        .join(Channel, Channel.id == Message.channel_id)
        .where(
            or_(*readable),
            Message.deleted_at.is_(None),
            and_(
                *(
                    Message.folded.like(f"%{like_escape(word)}%", escape="\\")
                    for word in search_folded(query).split()[:8]
                )
            ),
        )
        .order_by(Message.seq.desc())
        .limit(limit)
    )
    async with org_session(principal.org_id) as db:
        found = (await db.execute(stmt)).all()
    return [
        SearchHit(
            kind=_("Message"),
            title=text[:120],
            subtitle=f"#{name}" if kind in (ChannelKind.PUBLIC, ChannelKind.PRIVATE) else _("Conversation"),
            url=f"/chat/{channel_id}?message={message_id}",
        )
        for message_id, channel_id, text, name, kind in found
    ]
