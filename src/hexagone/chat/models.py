"""The chat module's tables (issue #19): channels (a space's ``#général``, the
organisation's public and private channels, direct and group messages), their members
with read markers, messages with threads, reactions and pins, the edits kept for the
audit, the files sent, the event log that reconnecting clients resume from, and the
organisation's chat settings.

Every change a client must hear of takes the organisation's next **sequence number**
(``chat_counters.last_seq``, taken with ``UPDATE … RETURNING`` just before the commit):
the row lock is held until the commit, so numbers are committed in order and a client
that reconnects with the last number it saw misses nothing by asking for the events
after it (``chat_events``). A message keeps the number of its posting (``seq``): read
markers and unread counts compare numbers, never timestamps.
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from hexagone.core.db import Base, IdMixin, TimestampMixin, utcnow
from hexagone.core.tenancy import OrgScoped


class ChannelKind(enum.StrEnum):
    SPACE = "space"  # a space's #général: its members, guests included
    PUBLIC = "public"  # any member of the organisation (not guests) may read and join
    PRIVATE = "private"  # its members only, added by its managers
    DIRECT = "direct"  # a direct message or a group of up to MAX_DIRECT people


class MemberRole(enum.StrEnum):
    MEMBER = "member"
    MANAGER = "manager"  # renames, sets the topic, adds and removes members, archives


class ChatSettings(IdMixin, OrgScoped, Base):
    """An organisation's chat rules; without a row, the defaults."""

    __tablename__ = "chat_settings"
    __table_args__ = (UniqueConstraint("org_id", name="uq_chat_settings_org_id"),)

    retention_days: Mapped[int | None] = mapped_column(Integer, default=None)  # None: kept for ever
    keep_history: Mapped[bool] = mapped_column(Boolean, default=False)  # edits and deletions kept for the audit


class Counter(OrgScoped, Base):
    """The organisation's last sequence number (one row per organisation)."""

    __tablename__ = "chat_counters"
    __table_args__ = (UniqueConstraint("org_id", name="uq_chat_counters_org_id"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    last_seq: Mapped[int] = mapped_column(BigInteger, default=0)


class Channel(IdMixin, OrgScoped, TimestampMixin, Base):
    __tablename__ = "chat_channels"
    __table_args__ = (
        # One channel of a name among the organisation's public and private channels.
        Index(
            "uq_chat_channels_name",
            "org_id",
            "name_key",
            unique=True,
            sqlite_where=text("kind IN ('public', 'private')"),
            postgresql_where=text("kind IN ('public', 'private')"),
        ),
    )

    kind: Mapped[str] = mapped_column(String(16))
    space_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("spaces.id", ondelete="CASCADE"), unique=True, default=None
    )
    name: Mapped[str] = mapped_column(String(80), default="")
    name_key: Mapped[str] = mapped_column(String(320), default="")  # NFC + casefold
    topic: Mapped[str] = mapped_column(String(250), default="")
    # A direct conversation's members, sorted: one conversation per set of people.
    direct_key: Mapped[str | None] = mapped_column(String(400), unique=True, default=None)
    created_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), default=None)
    archived_at: Mapped[datetime | None] = mapped_column(default=None)
    last_seq: Mapped[int] = mapped_column(BigInteger, default=0)  # its latest message's
    last_message_at: Mapped[datetime | None] = mapped_column(default=None)


class Member(IdMixin, OrgScoped, Base):
    """Someone in a channel, with what they have read. In a space's channel, a row exists
    once the person has opened it (their membership is the space's)."""

    __tablename__ = "chat_members"
    __table_args__ = (UniqueConstraint("channel_id", "user_id", name="uq_chat_members_channel_user"),)

    channel_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("chat_channels.id", ondelete="CASCADE"))
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(16), default=MemberRole.MEMBER)
    joined_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_read_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    muted: Mapped[bool] = mapped_column(Boolean, default=False)


class Message(IdMixin, OrgScoped, TimestampMixin, Base):
    __tablename__ = "chat_messages"
    __table_args__ = (
        Index("ix_chat_messages_channel_seq", "channel_id", "seq"),
        Index("ix_chat_messages_thread_seq", "thread_id", "seq"),
        UniqueConstraint("author_id", "client_id", name="uq_chat_messages_client_id"),
    )

    channel_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("chat_channels.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(BigInteger)
    author_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    thread_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("chat_messages.id", ondelete="CASCADE"), default=None
    )  # the thread's first message, for a reply
    text: Mapped[str] = mapped_column(Text)  # Markdown, as typed
    html: Mapped[str] = mapped_column(Text)  # rendered and sanitised once, at writing
    folded: Mapped[str] = mapped_column(Text, default="")  # the text as searches compare it (core.db.search_folded)
    mentions: Mapped[list[str]] = mapped_column(JSON, default=list)  # user ids, "channel", "here"
    client_id: Mapped[str | None] = mapped_column(String(64), default=None)  # a retried post is stored once
    edited_at: Mapped[datetime | None] = mapped_column(default=None)
    deleted_at: Mapped[datetime | None] = mapped_column(default=None)
    pinned_at: Mapped[datetime | None] = mapped_column(default=None)
    pinned_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), default=None)
    reply_count: Mapped[int] = mapped_column(Integer, default=0)
    last_reply_at: Mapped[datetime | None] = mapped_column(default=None)


class Revision(IdMixin, OrgScoped, TimestampMixin, Base):
    """A message's text before an edit or a deletion, when the organisation keeps them."""

    __tablename__ = "chat_revisions"

    message_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("chat_messages.id", ondelete="CASCADE"), index=True)
    text: Mapped[str] = mapped_column(Text)
    changed_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    change: Mapped[str] = mapped_column(String(16))  # "edit" | "delete"


class Reaction(IdMixin, OrgScoped, TimestampMixin, Base):
    __tablename__ = "chat_reactions"
    __table_args__ = (UniqueConstraint("message_id", "user_id", "emoji", name="uq_chat_reactions_one"),)

    message_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("chat_messages.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    emoji: Mapped[str] = mapped_column(String(32))


class Attachment(IdMixin, OrgScoped, TimestampMixin, Base):
    """A file sent in a conversation. Uploaded first (``message_id`` None: kept a day at
    most), then attached to the message that sends it; its bytes are in the blob store
    under ``blob_key``, its preview (images, PDFs) under ``blob_key + ".preview"``."""

    __tablename__ = "chat_attachments"

    channel_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("chat_channels.id", ondelete="CASCADE"))
    message_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("chat_messages.id", ondelete="CASCADE"), index=True, default=None
    )
    uploaded_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    name: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(127))
    size: Mapped[int] = mapped_column(BigInteger)
    blob_key: Mapped[str] = mapped_column(String(300))
    has_preview: Mapped[bool] = mapped_column(Boolean, default=False)
    position: Mapped[int] = mapped_column(Integer, default=0)  # its place among the message's files


class Event(OrgScoped, Base):
    """A change, as the live connections were told of it: what a reconnecting client
    replays. ``channel_id`` None: an event for ``user_id`` alone (their read marker moved
    on another device, they were added to a channel). Pruned after some days."""

    __tablename__ = "chat_events"
    __table_args__ = (
        UniqueConstraint("org_id", "seq", name="uq_chat_events_org_seq"),
        Index("ix_chat_events_created", "created_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    seq: Mapped[int] = mapped_column(BigInteger)
    channel_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("chat_channels.id", ondelete="CASCADE"), default=None
    )
    user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), default=None)
    kind: Mapped[str] = mapped_column(String(32))
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
