"""Conversations: which ones a person has (their spaces' ``#général``, the channels they
joined, their direct conversations), opening one, creating, joining, leaving, adding
and removing members, renaming and archiving. Every change is an event of the log
(:mod:`.events`), so open connections follow it live and reconnecting ones replay it.
"""

from __future__ import annotations

import unicodedata
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from hexagone.chat.models import Channel, ChannelKind, Member, MemberRole, Message
from hexagone.chat.policy import Reach
from hexagone.chat.service import events
from hexagone.core import policy
from hexagone.core.auth import Principal
from hexagone.core.db import utcnow
from hexagone.core.exceptions import Conflict, Forbidden, Invalid, NotFound
from hexagone.core.i18n import gettext as _
from hexagone.identity.service import clean_label, people_by_ids, share_a_space, space_names

MAX_DIRECT = 9  # people in a group conversation, the author included (as Slack)
GENERAL = "général"
MAX_NAME = 80
MAX_TOPIC = 250


@dataclass(frozen=True)
class ChannelInfo:
    """A conversation as one person sees it in their list."""

    id: uuid.UUID
    kind: str
    title: str  # the name, the space's name, or the other people's names
    topic: str
    space_id: uuid.UUID | None
    archived: bool
    last_seq: int
    last_read_seq: int
    unread: int
    muted: bool
    abilities: dict[str, bool] = field(default_factory=dict)
    people: tuple[uuid.UUID, ...] = ()  # a direct conversation's members


def name_key(name: str) -> str:
    return unicodedata.normalize("NFC", name).casefold()


def no_such_channel() -> str:
    return _("No such conversation.")


async def reach(db: AsyncSession, principal: Principal, channel_id: uuid.UUID, *, for_update: bool = False) -> Reach:
    """The channel and the principal's member row; NotFound if it does not exist. The
    caller asks the policy what the principal may do with it."""
    stmt = (
        select(Channel, Member)
        .outerjoin(Member, and_(Member.channel_id == Channel.id, Member.user_id == principal.user_id))
        .where(Channel.id == channel_id)
    )
    if for_update:
        stmt = stmt.with_for_update(of=Channel)
    found = (await db.execute(stmt)).first()
    if found is None:
        raise NotFound(no_such_channel())
    return Reach(found[0], found[1])


async def require(
    db: AsyncSession, principal: Principal, channel_id: uuid.UUID, ability: str, *, for_update: bool = False
) -> Reach:
    found = await reach(db, principal, channel_id, for_update=for_update)
    policy.require(principal, found, ability, no_such_channel())
    return found


async def ensure_space_channels(db: AsyncSession, principal: Principal) -> None:
    """Make the ``#général`` of each of the principal's spaces that has none yet (a
    write session)."""
    wanted = set(principal.space_ids)
    if not wanted:
        return
    have = set((await db.execute(select(Channel.space_id).where(Channel.space_id.in_(wanted)))).scalars())
    names = await space_names(db, wanted - have)  # archived spaces are left out
    for space_id in names:
        try:
            async with db.begin_nested():
                db.add(Channel(org_id=principal.org_id, kind=ChannelKind.SPACE, space_id=space_id, name=GENERAL))
        except IntegrityError:
            pass  # another request made it first


async def missing_space_channels(db: AsyncSession, principal: Principal) -> bool:
    wanted = set(principal.space_ids)
    if not wanted:
        return False
    have = (await db.execute(select(func.count()).where(Channel.space_id.in_(wanted)))).scalar_one()
    return int(have) < len(wanted)


async def visible_ids(db: AsyncSession, principal: Principal) -> set[uuid.UUID]:
    """The channels whose events the principal's live connections receive: their spaces'
    and those they are members of."""
    mine = select(Member.channel_id).where(Member.user_id == principal.user_id)
    followed: ColumnElement[bool] = Channel.id.in_(mine)
    if principal.space_ids:
        followed = followed | Channel.space_id.in_(principal.space_ids)
    return set((await db.execute(select(Channel.id).where(followed))).scalars())


async def listing(db: AsyncSession, principal: Principal) -> list[ChannelInfo]:
    """The principal's conversations, as their sidebar shows them: spaces' channels,
    then channels, then direct conversations, each by name (direct ones by activity)."""
    stmt = (
        select(Channel, Member)
        .outerjoin(Member, and_(Member.channel_id == Channel.id, Member.user_id == principal.user_id))
        .where((Member.id.is_not(None)) | Channel.space_id.in_(principal.space_ids or [uuid.UUID(int=0)]))
    )
    rows = [(channel, member) for channel, member in (await db.execute(stmt)).all()]
    unread = await _unread_counts(db, principal, rows)
    return await describe(db, principal, rows, unread)


async def describe(
    db: AsyncSession,
    principal: Principal,
    rows: Sequence[tuple[Channel, Member | None]],
    unread: dict[uuid.UUID, int] | None = None,
) -> list[ChannelInfo]:
    spaces = await space_names(db, {c.space_id for c, _m in rows if c.space_id})
    directs = await _direct_members(db, [c.id for c, _m in rows if c.kind == ChannelKind.DIRECT])
    people = await people_by_ids(db, {p for ids in directs.values() for p in ids})
    found = []
    for channel, member in rows:
        others = tuple(p for p in directs.get(channel.id, ()) if p != principal.user_id)
        if channel.kind == ChannelKind.SPACE:
            if channel.space_id not in spaces:
                continue  # the space is archived
            title = spaces[channel.space_id]
        elif channel.kind == ChannelKind.DIRECT:
            names = sorted(people[p].display_name or people[p].email for p in others if p in people)
            title = ", ".join(names) or principal.display_name
        else:
            title = channel.name
        abilities = policy.abilities(principal, Reach(channel, member))
        if not abilities.get("view"):
            continue
        found.append(
            ChannelInfo(
                id=channel.id,
                kind=channel.kind,
                title=title,
                topic=channel.topic,
                space_id=channel.space_id,
                archived=channel.archived_at is not None,
                last_seq=channel.last_seq,
                last_read_seq=member.last_read_seq if member else 0,
                unread=(unread or {}).get(channel.id, 0),
                muted=bool(member and member.muted),
                abilities=abilities,
                people=others,
            )
        )
    order = {ChannelKind.SPACE: 0, ChannelKind.PUBLIC: 1, ChannelKind.PRIVATE: 1, ChannelKind.DIRECT: 2}
    found.sort(key=lambda c: (order[ChannelKind(c.kind)], -c.last_seq if c.kind == "direct" else 0, c.title.casefold()))
    return found


async def _direct_members(db: AsyncSession, channel_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[uuid.UUID]]:
    if not channel_ids:
        return {}
    found: dict[uuid.UUID, list[uuid.UUID]] = {}
    stmt = select(Member.channel_id, Member.user_id).where(Member.channel_id.in_(channel_ids))
    for channel_id, user_id in (await db.execute(stmt)).all():
        found.setdefault(channel_id, []).append(user_id)
    return found


async def _unread_counts(
    db: AsyncSession, principal: Principal, rows: Sequence[tuple[Channel, Member | None]]
) -> dict[uuid.UUID, int]:
    """Messages (not replies, not one's own) after each read marker, for the channels
    with any."""
    behind = [(c.id, m.last_read_seq if m else 0) for c, m in rows if c.last_seq > (m.last_read_seq if m else 0)]
    if not behind:
        return {}
    stmt = (
        select(Message.channel_id, func.count())
        .where(
            or_(*(and_(Message.channel_id == channel_id, Message.seq > after) for channel_id, after in behind)),
            Message.thread_id.is_(None),
            Message.deleted_at.is_(None),
            Message.author_id != principal.user_id,
        )
        .group_by(Message.channel_id)
    )  # one statement for the whole sidebar: the navigation's badge asks on every page
    return {channel_id: int(count) for channel_id, count in (await db.execute(stmt)).all()}


async def info(db: AsyncSession, principal: Principal, channel_id: uuid.UUID) -> ChannelInfo:
    found = await require(db, principal, channel_id, "view")
    rows = [(found.channel, found.member)]
    return (await describe(db, principal, rows, await _unread_counts(db, principal, rows)))[0]


def _clean_name(name: str) -> str:
    cleaned = clean_label(
        name,
        _("A channel needs a name of at most %(n)s characters.", n=MAX_NAME),
        max_length=MAX_NAME,
    )
    return cleaned


def _clean_topic(topic: str) -> str:
    topic = " ".join(topic.split())
    if len(topic) > MAX_TOPIC:
        raise Invalid(_("The topic is too long (at most %(n)s characters).", n=MAX_TOPIC))
    return topic


async def create(
    db: AsyncSession, principal: Principal, name: str, *, private: bool = False, topic: str = ""
) -> uuid.UUID:
    """A public or private channel of the organisation, its author its first manager."""
    if principal.is_guest:
        raise Forbidden(_("Guests cannot create channels."))
    clean = _clean_name(name)
    channel = Channel(
        org_id=principal.org_id,
        kind=ChannelKind.PRIVATE if private else ChannelKind.PUBLIC,
        name=clean,
        name_key=name_key(clean),
        topic=_clean_topic(topic),
        created_by=principal.user_id,
    )
    try:
        async with db.begin_nested():
            db.add(channel)
            await db.flush()
    except IntegrityError:
        raise Conflict(_("A channel of that name already exists.")) from None
    db.add(Member(org_id=principal.org_id, channel_id=channel.id, user_id=principal.user_id, role=MemberRole.MANAGER))
    await _emit_membership(db, principal.org_id, channel.id, [principal.user_id], joined=True)
    return channel.id


async def open_direct(db: AsyncSession, principal: Principal, user_ids: Iterable[uuid.UUID]) -> uuid.UUID:
    """The direct conversation between the principal and these people, made the first
    time. A guest writes only to people who share a space with them, and is written to
    only by them."""
    people_ids = set(user_ids) | {principal.user_id}
    if len(people_ids) > MAX_DIRECT:
        raise Invalid(_("A conversation holds at most %(n)s people.", n=MAX_DIRECT))
    people = await people_by_ids(db, people_ids)
    if set(people) != people_ids or not all(p.is_active for p in people.values()):
        raise NotFound(_("No such person."))
    for person in people.values():
        if person.role == "guest":
            others = people_ids - {person.id}
            if await share_a_space(db, person.id, others) != others:
                raise Forbidden(_("Guests can only write to people who share a space with them."))
    key = ",".join(sorted(p.hex for p in people_ids))
    existing = (await db.execute(select(Channel.id).where(Channel.direct_key == key))).scalar()
    if existing is not None:
        return existing
    channel = Channel(org_id=principal.org_id, kind=ChannelKind.DIRECT, direct_key=key, created_by=principal.user_id)
    try:
        async with db.begin_nested():
            db.add(channel)
            await db.flush()
    except IntegrityError:  # made by another request meanwhile
        return (await db.execute(select(Channel.id).where(Channel.direct_key == key))).scalar_one()
    db.add_all(Member(org_id=principal.org_id, channel_id=channel.id, user_id=p) for p in sorted(people_ids))
    await _emit_membership(db, principal.org_id, channel.id, sorted(people_ids), joined=True)
    return channel.id


async def join(db: AsyncSession, principal: Principal, channel_id: uuid.UUID) -> None:
    found = await require(db, principal, channel_id, "join")
    db.add(Member(org_id=principal.org_id, channel_id=found.channel.id, user_id=principal.user_id))
    await _emit_membership(db, principal.org_id, channel_id, [principal.user_id], joined=True)


async def leave(db: AsyncSession, principal: Principal, channel_id: uuid.UUID) -> None:
    found = await require(db, principal, channel_id, "leave")
    assert found.member is not None, "leave is granted to members only"
    await db.delete(found.member)
    await _emit_membership(db, principal.org_id, channel_id, [principal.user_id], joined=False)


async def add_members(
    db: AsyncSession, principal: Principal, channel_id: uuid.UUID, user_ids: Iterable[uuid.UUID]
) -> None:
    """A manager adds people to a public or private channel (guests: never)."""
    found = await require(db, principal, channel_id, "manage")
    if found.channel.kind not in (ChannelKind.PUBLIC, ChannelKind.PRIVATE):
        raise Forbidden(_("Members of this conversation cannot be changed."))
    wanted = set(user_ids)
    people = await people_by_ids(db, wanted)
    if set(people) != wanted or not all(p.is_active for p in people.values()):
        raise NotFound(_("No such person."))
    if any(p.role == "guest" for p in people.values()):
        raise Forbidden(_("Guests take part only in their spaces' channels and in direct messages."))
    present = set(
        (
            await db.execute(select(Member.user_id).where(Member.channel_id == channel_id, Member.user_id.in_(wanted)))
        ).scalars()
    )
    added = sorted(wanted - present)
    db.add_all(Member(org_id=principal.org_id, channel_id=channel_id, user_id=u) for u in added)
    if added:
        await _emit_membership(db, principal.org_id, channel_id, added, joined=True)


async def remove_member(db: AsyncSession, principal: Principal, channel_id: uuid.UUID, user_id: uuid.UUID) -> None:
    found = await require(db, principal, channel_id, "manage")
    if found.channel.kind not in (ChannelKind.PUBLIC, ChannelKind.PRIVATE):
        raise Forbidden(_("Members of this conversation cannot be changed."))
    member = (
        await db.execute(select(Member).where(Member.channel_id == channel_id, Member.user_id == user_id))
    ).scalar()
    if member is None:
        raise NotFound(_("No such person."))
    await db.delete(member)
    await _emit_membership(db, principal.org_id, channel_id, [user_id], joined=False)


async def update(
    db: AsyncSession, principal: Principal, channel_id: uuid.UUID, *, name: str | None = None, topic: str | None = None
) -> None:
    found = await require(db, principal, channel_id, "manage", for_update=True)
    channel = found.channel
    if name is not None:
        if channel.kind not in (ChannelKind.PUBLIC, ChannelKind.PRIVATE):
            raise Forbidden(_("This conversation cannot be renamed."))
        channel.name = _clean_name(name)
        channel.name_key = name_key(channel.name)
    if topic is not None:
        channel.topic = _clean_topic(topic)
    try:
        async with db.begin_nested():
            await db.flush()
    except IntegrityError:
        raise Conflict(_("A channel of that name already exists.")) from None
    seq = await events.next_seq(db, principal.org_id)
    events.emit(
        db, principal.org_id, seq, "channel", {"name": channel.name, "topic": channel.topic}, channel_id=channel_id
    )


async def archive(db: AsyncSession, principal: Principal, channel_id: uuid.UUID, *, archived: bool = True) -> None:
    found = await require(db, principal, channel_id, "manage", for_update=True)
    if found.channel.kind not in (ChannelKind.PUBLIC, ChannelKind.PRIVATE):
        raise Forbidden(_("This conversation cannot be archived."))
    found.channel.archived_at = utcnow() if archived else None
    seq = await events.next_seq(db, principal.org_id)
    events.emit(db, principal.org_id, seq, "channel", {"archived": archived}, channel_id=channel_id)


async def mark_read(db: AsyncSession, principal: Principal, channel_id: uuid.UUID, seq: int) -> int:
    """Move the principal's read marker forward to ``seq`` (never back, never past the
    channel's last message); their other devices hear of it. Returns the marker."""
    found = await require(db, principal, channel_id, "view")
    target = max(0, min(seq, found.channel.last_seq))
    member = found.member
    if member is None:
        if found.channel.kind != ChannelKind.SPACE:
            return 0  # a public channel read without joining keeps no marker
        member = Member(org_id=principal.org_id, channel_id=channel_id, user_id=principal.user_id)
        db.add(member)
        member.last_read_seq = 0
    if target <= member.last_read_seq:
        return member.last_read_seq
    member.last_read_seq = target
    event_seq = await events.next_seq(db, principal.org_id)
    events.emit(
        db, principal.org_id, event_seq, "read", {"channel": str(channel_id), "read": target}, user_id=principal.user_id
    )
    return target


async def set_muted(db: AsyncSession, principal: Principal, channel_id: uuid.UUID, muted: bool) -> None:
    found = await require(db, principal, channel_id, "view")
    if found.member is None:
        if found.channel.kind != ChannelKind.SPACE:
            raise Forbidden(_("Join the channel first."))
        db.add(Member(org_id=principal.org_id, channel_id=channel_id, user_id=principal.user_id, muted=muted))
    else:
        found.member.muted = muted


async def members(db: AsyncSession, principal: Principal, channel_id: uuid.UUID) -> list[uuid.UUID]:
    """Who is in the conversation: its member rows (a space's channel: the people who
    opened it; the space's members are the space's business)."""
    await require(db, principal, channel_id, "view")
    return list((await db.execute(select(Member.user_id).where(Member.channel_id == channel_id))).scalars())


async def public_channels(db: AsyncSession, principal: Principal) -> list[ChannelInfo]:
    """The organisation's public channels, to browse and join (not for guests)."""
    if principal.is_guest:
        return []
    stmt = (
        select(Channel, Member)
        .outerjoin(Member, and_(Member.channel_id == Channel.id, Member.user_id == principal.user_id))
        .where(Channel.kind == ChannelKind.PUBLIC, Channel.archived_at.is_(None))
        .order_by(Channel.name_key)
    )
    return await describe(db, principal, list((await db.execute(stmt)).tuples()))


async def _emit_membership(
    db: AsyncSession, org_id: uuid.UUID, channel_id: uuid.UUID, user_ids: Sequence[uuid.UUID], *, joined: bool
) -> None:
    """Tell the channel and each person (whose connections start or stop following it)."""
    kind = "joined" if joined else "left"
    people = [str(u) for u in user_ids]
    seq = await events.next_seq(db, org_id)
    events.emit(db, org_id, seq, kind, {"users": people}, channel_id=channel_id)
    for user_id in user_ids:
        seq = await events.next_seq(db, org_id)
        events.emit(db, org_id, seq, kind, {"channel": str(channel_id)}, user_id=user_id)
