"""What the chat API's routes share: the errors they declare, the caller's session and
the bodies of conversations and messages."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, Field

from hexagone.chat import service
from hexagone.core.api import error_responses

DESCRIBED = {
    400: "A value is refused (an empty or too long message, a name or topic too long); the message says why.",
    409: "A channel of that name already exists.",
    416: "The range asked for lies past the end of the file.",
    429: "Too many messages in a short time: wait a moment.",
    507: "The caller's drive is full.",
}


def errors(*statuses: int) -> dict[int | str, dict[str, object]]:
    return error_responses(DESCRIBED, *statuses)


class ChannelOut(BaseModel):
    id: uuid.UUID
    kind: str = Field(description="space (a space's #général), public, private or direct.")
    title: str = Field(description="The name, the space's name, or the other people's names.")
    topic: str
    space_id: uuid.UUID | None
    archived: bool
    last_seq: int = Field(description="The number of its latest message.")
    last_read_seq: int = Field(description="The caller's read marker.")
    unread: int = Field(description="Messages after the marker (not replies, not the caller's own).")
    muted: bool
    abilities: dict[str, bool] = Field(description="What the caller may do: view, post, manage, join, leave, react.")
    people: list[uuid.UUID] = Field(description="A direct conversation's other members.")

    @classmethod
    def of(cls, info: service.ChannelInfo) -> ChannelOut:
        return cls(
            id=info.id,
            kind=info.kind,
            title=info.title,
            topic=info.topic,
            space_id=info.space_id,
            archived=info.archived,
            last_seq=info.last_seq,
            last_read_seq=info.last_read_seq,
            unread=info.unread,
            muted=info.muted,
            abilities=info.abilities,
            people=list(info.people),
        )


class AttachmentOut(BaseModel):
    id: uuid.UUID
    name: str
    content_type: str
    size: int = Field(description="In bytes.")
    preview: bool = Field(description="A PNG preview can be read at /files/{id}/preview.")


class MessageOut(BaseModel):
    id: uuid.UUID
    channel: uuid.UUID
    seq: int = Field(description="Its number in the organisation's event log.")
    author: uuid.UUID | None
    author_name: str
    thread: uuid.UUID | None = Field(description="The thread's first message, for a reply.")
    text: str = Field(description="Markdown, as written (empty once deleted).")
    html: str = Field(description="The text rendered and sanitised.")
    created_at: datetime
    edited_at: datetime | None
    deleted: bool
    pinned: bool
    reply_count: int
    last_reply_at: datetime | None
    reactions: dict[str, list[uuid.UUID]] = Field(description="Each emoji and who reacted with it.")
    attachments: list[AttachmentOut] = Field(description="The files sent with it, in order (none once deleted).")

    @classmethod
    def of(cls, info: service.MessageInfo) -> MessageOut:
        return cls.model_validate(info.as_json())
