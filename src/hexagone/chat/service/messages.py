"""Messages: posting (in a channel or a thread, with files uploaded before:
:mod:`.attachments`), history pages, editing, deleting, reactions and pins. Each change
is one event of the log, published after the commit (:mod:`.events`); a post mentioning
people notifies them through the core's notification centre, in the same transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from hexagone.chat.models import Channel, ChannelKind, Member, Message, Reaction, Revision
from hexagone.chat.policy import Reach
from hexagone.chat.service import attachments, channels, events, formatting, settings
from hexagone.chat.service.attachments import AttachmentInfo
from hexagone.core import notifications, policy
from hexagone.core.auth import Principal
from hexagone.core.db import search_folded, utcnow
from hexagone.core.exceptions import Forbidden, Invalid, NotFound
from hexagone.core.i18n import gettext as _
from hexagone.identity.service import people_by_handles, people_by_ids, space_people

MAX_TEXT = 10_000  # characters of Markdown (Mattermost: 16,383; Slack shows 4,000)
PAGE = 50
MAX_PAGE = 200
MAX_EMOJI = 32
MAX_REACTIONS = 50  # different emoji on one message
MAX_CLIENT_ID = 64
SPACE_ROLES = ("owner", "manager", "member", "reader")


@dataclass(frozen=True)
class MessageInfo:
    id: uuid.UUID
    channel_id: uuid.UUID
    seq: int
    author_id: uuid.UUID | None
    author_name: str
    thread_id: uuid.UUID | None
    text: str
    html: str
    created_at: datetime
    edited_at: datetime | None
    deleted: bool
    pinned: bool
    reply_count: int
    last_reply_at: datetime | None
    reactions: dict[str, list[str]] = field(default_factory=dict)  # emoji -> user ids, in order
    attachments: list[AttachmentInfo] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "id": str(self.id),
            "channel": str(self.channel_id),
            "seq": self.seq,
            "author": str(self.author_id) if self.author_id else None,
            "author_name": self.author_name,
            "thread": str(self.thread_id) if self.thread_id else None,
            "text": self.text,
            "html": self.html,
            "created_at": self.created_at.isoformat(),
            "edited_at": self.edited_at.isoformat() if self.edited_at else None,
            "deleted": self.deleted,
            "pinned": self.pinned,
            "reply_count": self.reply_count,
            "last_reply_at": self.last_reply_at.isoformat() if self.last_reply_at else None,
            "reactions": self.reactions,
            "attachments": [a.as_json() for a in self.attachments],
        }


def no_such_message() -> str:
    return _("No such message.")


def _clean_text(text: str, *, may_be_empty: bool = False) -> str:
    text = "".join(c for c in text if c in "\n\t" or c >= " ").strip()
    if not text and not may_be_empty:
        raise Invalid(_("A message cannot be empty."))
    if len(text) > MAX_TEXT:
        raise Invalid(_("A message holds at most %(n)s characters.", n=MAX_TEXT))
    return text


async def _render(db: AsyncSession, text: str) -> formatting.Rendered:
    wanted = formatting.handles(text)
    named: dict[str, formatting.Named] = {h: formatting.Named(broadcast=h) for h in wanted & set(formatting.BROADCASTS)}
    for handle, person in (await people_by_handles(db, wanted - set(formatting.BROADCASTS))).items():
        named[handle] = formatting.Named(str(person.id), person.display_name or person.email)
    return formatting.render(text, named)


async def post(
    db: AsyncSession,
    principal: Principal,
    channel_id: uuid.UUID,
    text: str,
    *,
    thread_id: uuid.UUID | None = None,
    client_id: str | None = None,
    files: Sequence[uuid.UUID] = (),
    online: Callable[[], Iterable[uuid.UUID]] = tuple,
) -> MessageInfo:
    """Store a message (or a reply in ``thread_id``'s thread), with the ``files`` the
    author uploaded to the conversation (then the text may be empty). A post retried with
    the same ``client_id`` is stored once and answered with the first one. ``online()``:
    who is connected now, whom ``@here`` notifies (asked only for such a message)."""
    text = _clean_text(text, may_be_empty=bool(files))
    if client_id is not None and (not client_id or len(client_id) > MAX_CLIENT_ID):
        raise Invalid(_("The message's client identifier is invalid."))
    found = await channels.require(db, principal, channel_id, "post")
    if client_id is not None:
        already = await _by_client_id(db, principal, client_id)
        if already is not None:
            return (await infos(db, [already]))[0]
    root = None
    if thread_id is not None:
        root = (
            await db.execute(select(Message).where(Message.id == thread_id, Message.channel_id == channel_id))
        ).scalar()
        if root is None or root.thread_id is not None or root.deleted_at is not None:
            raise NotFound(_("No such thread."))
    sent = await attachments.claim(db, principal, channel_id, files)
    rendered = await _render(db, text)
    seq = await events.next_seq(db, principal.org_id)
    now = utcnow()
    message = Message(
        org_id=principal.org_id,
        channel_id=channel_id,
        seq=seq,
        author_id=principal.user_id,
        thread_id=thread_id,
        text=text,
        html=rendered.html,
        folded=search_folded(text),
        mentions=rendered.mention_keys,
        client_id=client_id,
        created_at=now,
    )
    db.add(message)
    if root is not None:
        root.reply_count += 1
        root.last_reply_at = now
    else:
        found.channel.last_seq = seq
        found.channel.last_message_at = now
    if root is None:  # one's own message is read
        if found.member is not None:
            found.member.last_read_seq = seq
        else:  # a space's channel written in before being opened
            db.add(Member(org_id=principal.org_id, channel_id=channel_id, user_id=principal.user_id, last_read_seq=seq))
    await db.flush()
    # No reaction yet, the author is here: the answer needs no more statements.
    info = _info(message, principal.display_name or principal.email, {}, attachments.attach(sent, message.id))
    events.emit(db, principal.org_id, seq, "message", {"message": info.as_json()}, channel_id=channel_id)
    await _notify(db, principal, found.channel, message, info.attachments, rendered.mentioned, online)
    return info


async def _by_client_id(db: AsyncSession, principal: Principal, client_id: str) -> Message | None:
    stmt = select(Message).where(Message.author_id == principal.user_id, Message.client_id == client_id)
    return (await db.execute(stmt)).scalar()


async def _notify(
    db: AsyncSession,
    principal: Principal,
    channel: Channel,
    message: Message,
    files: Sequence[AttachmentInfo],
    mentioned: Iterable[formatting.Named],
    online: Callable[[], Iterable[uuid.UUID]],
) -> None:
    """Notify whom the message is for: the people it mentions who can read the channel,
    everyone in it for ``@channel`` (the connected ones for ``@here``), the other people
    of a direct conversation. Not the author; not those who muted it (a mention by name
    still reaches them)."""
    named = {uuid.UUID(n.user_id) for n in mentioned if n.user_id}
    broadcasts = {n.broadcast for n in mentioned if n.broadcast}
    everyone = channel.kind == ChannelKind.DIRECT or bool(broadcasts)
    if not named and not everyone:
        return  # most messages: nobody to notify, and no member to read (the benchmark's 5,000)
    rows = select(Member.user_id, Member.muted).where(Member.channel_id == channel.id)
    if not everyone:
        rows = rows.where(Member.user_id.in_(named))
    found = list((await db.execute(rows)).all())
    muted = {user_id for user_id, is_muted in found if is_muted}
    if channel.kind == ChannelKind.SPACE:
        assert channel.space_id is not None
        audience = {p.id for p in await space_people(db, channel.space_id, SPACE_ROLES)}
    else:
        audience = {user_id for user_id, _m in found}
    wanted = named & audience
    if channel.kind == ChannelKind.DIRECT or "channel" in broadcasts:
        wanted |= audience - muted
    elif "here" in broadcasts:
        wanted |= (audience & set(online())) - muted  # asked only here: it goes through every socket
    wanted.discard(principal.user_id)
    if not wanted:
        return
    title = _("%(name)s wrote to you", name=principal.display_name or principal.email)
    link = f"/chat/{channel.id}?message={message.id}"
    body = message.text[:200] or ", ".join(a.name for a in files)[:200]
    for user_id in sorted(wanted):
        notifications.post(
            db, org_id=principal.org_id, user_id=user_id, module="chat", title=title, body=body, link=link
        )


async def history(
    db: AsyncSession,
    principal: Principal,
    channel_id: uuid.UUID,
    *,
    before: int | None = None,
    after: int | None = None,
    limit: int = PAGE,
) -> list[MessageInfo]:
    """A page of the channel's messages (not the replies), oldest first: the latest ones,
    those before a number (scrolling up) or after one (catching up)."""
    await channels.require(db, principal, channel_id, "view")
    limit = _limit(limit)
    stmt = select(Message).where(Message.channel_id == channel_id, Message.thread_id.is_(None))
    if after is not None:
        stmt = stmt.where(Message.seq > after).order_by(Message.seq).limit(limit)
        return await infos(db, list((await db.execute(stmt)).scalars()))
    if before is not None:
        stmt = stmt.where(Message.seq < before)
    found = list((await db.execute(stmt.order_by(Message.seq.desc()).limit(limit))).scalars())
    return await infos(db, found[::-1])


def _limit(limit: int) -> int:
    if not 1 <= limit <= MAX_PAGE:
        raise Invalid(_("A page holds 1 to %(n)s messages.", n=MAX_PAGE))
    return limit


async def thread(
    db: AsyncSession, principal: Principal, message_id: uuid.UUID, *, limit: int = MAX_PAGE
) -> tuple[MessageInfo, list[MessageInfo]]:
    """A thread: its first message and its replies, oldest first."""
    root, _reach = await _message(db, principal, message_id, "view")
    if root.thread_id is not None:
        raise NotFound(_("No such thread."))
    stmt = select(Message).where(Message.thread_id == root.id).order_by(Message.seq).limit(_limit(limit))
    replies = list((await db.execute(stmt)).scalars())
    found = await infos(db, [root, *replies])
    return found[0], found[1:]


async def one(db: AsyncSession, principal: Principal, message_id: uuid.UUID) -> MessageInfo:
    message, _reach = await _message(db, principal, message_id, "view")
    return (await infos(db, [message]))[0]


async def _message(
    db: AsyncSession, principal: Principal, message_id: uuid.UUID, ability: str, *, for_update: bool = False
) -> tuple[Message, Reach]:
    stmt = select(Message).where(Message.id == message_id)
    if for_update:
        stmt = stmt.with_for_update()
    message = (await db.execute(stmt)).scalar()
    if message is None:
        raise NotFound(no_such_message())
    try:
        reach = await channels.require(db, principal, message.channel_id, ability)
    except NotFound:
        raise NotFound(no_such_message()) from None
    return message, reach


async def edit(db: AsyncSession, principal: Principal, message_id: uuid.UUID, text: str) -> MessageInfo:
    """The author changes their message's text (kept for the audit if the organisation
    says so)."""
    message, _reach = await _message(db, principal, message_id, "post", for_update=True)
    if message.author_id != principal.user_id or message.deleted_at is not None:
        raise Forbidden(_("Only its author can edit a message."))
    text = _clean_text(text)
    if text == message.text:
        return (await infos(db, [message]))[0]
    await _keep_for_audit(db, principal, message, "edit")
    rendered = await _render(db, text)
    message.text, message.html, message.folded = text, rendered.html, search_folded(text)
    message.mentions = rendered.mention_keys
    message.edited_at = utcnow()
    return await _changed(db, principal, message, "edited")


async def _keep_for_audit(db: AsyncSession, principal: Principal, message: Message, change: str) -> bool:
    """The text before an edit or a deletion, when the organisation keeps them (then
    a deleted message's files are kept too); whether it does."""
    if not (await settings.current(db, principal.org_id)).keep_history:
        return False
    db.add(
        Revision(
            org_id=principal.org_id,
            message_id=message.id,
            text=message.text,
            changed_by=principal.user_id,
            change=change,
        )
    )
    return True


async def delete(db: AsyncSession, principal: Principal, message_id: uuid.UUID) -> None:
    """Its author, or a manager of the channel, deletes a message: its text is gone for
    everyone (kept for the audit if the organisation says so), its thread stays."""
    message, reach = await _message(db, principal, message_id, "view", for_update=True)
    if message.deleted_at is not None:
        return
    granted = policy.abilities(principal, reach)
    if not (message.author_id == principal.user_id and granted.get("post")) and not granted.get("manage"):
        raise Forbidden(_("Only its author or a manager of the conversation can delete a message."))
    kept = await _keep_for_audit(db, principal, message, "delete")
    message.text = message.html = message.folded = ""
    message.mentions = []
    message.deleted_at = utcnow()
    message.pinned_at = None
    if not kept:
        await attachments.forget(db, principal.org_id, [message.id])
    if message.thread_id is not None:
        await db.execute(
            update(Message).where(Message.id == message.thread_id).values(reply_count=Message.reply_count - 1)
        )
    await _changed(db, principal, message, "deleted")


async def _changed(db: AsyncSession, principal: Principal, message: Message, kind: str) -> MessageInfo:
    await db.flush()
    info = (await infos(db, [message]))[0]
    seq = await events.next_seq(db, principal.org_id)
    events.emit(db, principal.org_id, seq, kind, {"message": info.as_json()}, channel_id=message.channel_id)
    return info


def _clean_emoji(emoji: str) -> str:
    emoji = emoji.strip()
    if not emoji or len(emoji) > MAX_EMOJI or any(c.isspace() or c < " " for c in emoji):
        raise Invalid(_("A reaction is one emoji or a short :name:."))
    return emoji


async def react(
    db: AsyncSession, principal: Principal, message_id: uuid.UUID, emoji: str, *, on: bool = True
) -> MessageInfo:
    emoji = _clean_emoji(emoji)
    message, _reach = await _message(db, principal, message_id, "react", for_update=True)
    if message.deleted_at is not None:
        raise NotFound(no_such_message())
    existing = (
        await db.execute(
            select(Reaction).where(
                Reaction.message_id == message.id, Reaction.user_id == principal.user_id, Reaction.emoji == emoji
            )
        )
    ).scalar()
    if on and existing is None:
        kinds = (
            await db.execute(select(func.count(func.distinct(Reaction.emoji))).where(Reaction.message_id == message.id))
        ).scalar_one()
        if kinds >= MAX_REACTIONS:
            raise Invalid(_("A message holds at most %(n)s different reactions.", n=MAX_REACTIONS))
        try:
            async with db.begin_nested():
                db.add(Reaction(org_id=principal.org_id, message_id=message.id, user_id=principal.user_id, emoji=emoji))
        except IntegrityError:
            pass
    elif not on and existing is not None:
        await db.delete(existing)
    else:
        return (await infos(db, [message]))[0]
    return await _changed(db, principal, message, "reactions")


async def pin(db: AsyncSession, principal: Principal, message_id: uuid.UUID, *, pinned: bool = True) -> MessageInfo:
    message, _reach = await _message(db, principal, message_id, "post", for_update=True)
    if message.deleted_at is not None:
        raise NotFound(no_such_message())
    if (message.pinned_at is not None) == pinned:
        return (await infos(db, [message]))[0]
    message.pinned_at = utcnow() if pinned else None
    message.pinned_by = principal.user_id if pinned else None
    return await _changed(db, principal, message, "pinned")


async def pinned(db: AsyncSession, principal: Principal, channel_id: uuid.UUID) -> list[MessageInfo]:
    await channels.require(db, principal, channel_id, "view")
    stmt = (
        select(Message)
        .where(Message.channel_id == channel_id, Message.pinned_at.is_not(None))
        .order_by(Message.pinned_at.desc())
    )
    return await infos(db, list((await db.execute(stmt)).scalars()))


async def infos(db: AsyncSession, messages: Sequence[Message]) -> list[MessageInfo]:
    if not messages:
        return []
    ids = [m.id for m in messages]
    reactions: dict[uuid.UUID, dict[str, list[str]]] = {}
    stmt = (
        select(Reaction.message_id, Reaction.emoji, Reaction.user_id)
        .where(Reaction.message_id.in_(ids))
        .order_by(Reaction.created_at)
    )
    for message_id, emoji, user_id in (await db.execute(stmt)).all():
        reactions.setdefault(message_id, {}).setdefault(emoji, []).append(str(user_id))
    people = await people_by_ids(db, {m.author_id for m in messages if m.author_id})
    files = await attachments.of_messages(db, [m.id for m in messages if m.deleted_at is None])
    return [
        _info(
            m,
            (p.display_name or p.email) if (p := people.get(m.author_id)) else "",  # type: ignore[arg-type]
            reactions.get(m.id, {}),
            files.get(m.id, []),
        )
        for m in messages
    ]


def _info(m: Message, author_name: str, reactions: dict[str, list[str]], files: list[AttachmentInfo]) -> MessageInfo:
    return MessageInfo(
        id=m.id,
        channel_id=m.channel_id,
        seq=m.seq,
        author_id=m.author_id,
        author_name=author_name,
        thread_id=m.thread_id,
        text=m.text,
        html=m.html,
        created_at=m.created_at,
        edited_at=m.edited_at,
        deleted=m.deleted_at is not None,
        pinned=m.pinned_at is not None,
        reply_count=m.reply_count,
        last_reply_at=m.last_reply_at,
        reactions=reactions,
        attachments=files,
    )
