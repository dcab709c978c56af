"""The mail API's request and response bodies: the OpenAPI document's schemas."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from hexagone.mail.api.common import Text
from hexagone.mail.models import Folder, Message
from hexagone.mail.service import store
from hexagone.mail.service.mailboxes import MAX_FOLDER_NAME, Access
from hexagone.mail.web.drafting import MAX_RECIPIENTS

MAX_TEXT = 1_000_000  # characters of a body, as the compose form takes them
MAX_ATTACHMENT_BASE64 = 70 << 20  # the request's own limit (the message size, in base64) is lower


class MailboxOut(BaseModel):
    id: uuid.UUID
    address: str
    name: str
    own: bool = Field(description="The caller's own mailbox; otherwise one granted to them.")
    can_write: bool = Field(description="Flags, moves and folders may be changed (false: a read-only grant).")
    can_send_as: bool = Field(description="Messages may be sent from this mailbox's address.")

    @classmethod
    def of(cls, access: Access, abilities: Mapping[str, bool]) -> MailboxOut:
        """The mailbox as the caller may use it: ``abilities`` are the core policy's
        answer for them (``write``, ``send_as``)."""
        mailbox = access.mailbox
        return cls(
            id=mailbox.id,
            address=mailbox.address,
            name=mailbox.display_name,
            own=access.own,
            can_write=abilities.get("write", False),
            can_send_as=abilities.get("send_as", False),
        )


class FolderOut(BaseModel):
    id: uuid.UUID
    mailbox_id: uuid.UUID
    name: str = Field(description="The full path, '/' between levels; the inbox is always INBOX.")
    special_use: str | None = Field(description="RFC 6154: \\Drafts, \\Sent, \\Trash, \\Junk, \\Archive, or null.")
    total: int
    unseen: int

    @classmethod
    def of(cls, folder: Folder, total: int = 0, unseen: int = 0) -> FolderOut:
        return cls(
            id=folder.id,
            mailbox_id=folder.mailbox_id,
            name=folder.name,
            special_use=folder.special_use,
            total=total,
            unseen=unseen,
        )


# What check_folder_name accepts: segments separated by single '/', each with something
# printable, no control character, '*' or '%' (IMAP wildcards).
_SEGMENT = r"[^/\x00-\x1f*%]*[^\s/\x00-\x1f*%][^/\x00-\x1f*%]*"
FOLDER_PATTERN = rf"^/*{_SEGMENT}(/{_SEGMENT})*/*$"
# Standard base64, padded: what b64decode(validate=True) accepts.
BASE64_PATTERN = r"^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$"


class FolderName(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Text = Field(
        min_length=1,
        max_length=MAX_FOLDER_NAME,
        pattern=FOLDER_PATTERN,
        description="The full path ('Projects/2026'); parents are created as needed. No control characters, * or %.",
    )


class MessageSummary(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    id: uuid.UUID
    mailbox_id: uuid.UUID
    folder_id: uuid.UUID
    subject: str
    sender: str = Field(alias="from", description="The From header, decoded.")
    to: str
    date: datetime | None = Field(description="The Date header; null when it has none or it is unreadable.")
    received_at: datetime
    preview: str
    size: int
    has_attachments: bool
    flags: list[str] = Field(description="IMAP flags: \\Seen, \\Answered, \\Flagged, \\Deleted, \\Draft and keywords.")

    @classmethod
    def fields_of(cls, message: Message) -> dict[str, object]:
        return {
            "id": message.id,
            "mailbox_id": message.mailbox_id,
            "folder_id": message.folder_id,
            "subject": message.subject,
            "from": message.from_addr,
            "to": message.to_addrs,
            "date": message.sent_date,
            "received_at": message.internal_date,
            "preview": message.preview,
            "size": message.size,
            "has_attachments": message.has_attachments,
            "flags": store.flags_of(message),
        }

    @classmethod
    def of(cls, message: Message) -> MessageSummary:
        return cls.model_validate(cls.fields_of(message))


class MessagePage(BaseModel):
    messages: list[MessageSummary]
    next_cursor: str | None = Field(description="Pass as ``cursor`` for the next page; null on the last page.")


class AttachmentOut(BaseModel):
    index: int = Field(description="The part number of the download route.")
    filename: str
    content_type: str
    size: int = Field(description="Decoded bytes, estimated from the encoded size.")


class MessageOut(MessageSummary):
    cc: str
    message_id: str = Field(description="The Message-ID header.")
    html: str = Field(
        description="The body as the webmail shows it: sanitised HTML (no script, no remote image), "
        "or the plain text escaped with its links."
    )
    text: str = Field(description="The plain text of the message (its text parts, or its HTML reduced to text).")
    clipped: bool = Field(description="The body was too long to show whole; download the message's parts for the rest.")
    attachments: list[AttachmentOut]


class FlagsIn(BaseModel):
    """Each flag given is set (true) or cleared (false); those left out are unchanged."""

    model_config = ConfigDict(extra="forbid")

    seen: bool | None = None
    flagged: bool | None = None
    answered: bool | None = None


class MoveIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    folder_id: uuid.UUID = Field(description="A folder of the same mailbox (its Trash to delete the message).")


Address = Annotated[Text, Field(min_length=3, max_length=320, json_schema_extra={"format": "email"})]


class OutgoingFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    filename: Text = Field(
        min_length=1, max_length=200, pattern=r"^[^\x00-\x1f\x7f]+$", description="No control characters."
    )
    content_type: Text = Field(
        default="application/octet-stream",
        max_length=200,
        description="type/subtype; anything else, or a multipart or message type, is sent as application/octet-stream.",
    )
    data: str = Field(
        max_length=MAX_ATTACHMENT_BASE64,
        pattern=BASE64_PATTERN,
        description="The file's bytes, base64.",
        json_schema_extra={"contentEncoding": "base64"},
    )


class SendIn(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    sender: Text | None = Field(
        default=None,
        alias="from",
        max_length=320,
        description="An address the caller may send as (their own by default): an alias, or a shared mailbox "
        "they were granted send-as on.",
    )
    to: list[Address] = Field(min_length=1, max_length=MAX_RECIPIENTS, description="Bare addresses (a@example.org).")
    cc: list[Address] = Field(default_factory=list, max_length=MAX_RECIPIENTS)
    bcc: list[Address] = Field(default_factory=list, max_length=MAX_RECIPIENTS)
    subject: Text = Field(default="", max_length=1000)
    text: Text = Field(default="", max_length=MAX_TEXT, description="The body, plain text.")
    attachments: list[OutgoingFile] = Field(default_factory=list, max_length=100)


class SendResult(BaseModel):
    message_id: str = Field(description="The Message-ID header of the message sent.")
    sent_copy_id: uuid.UUID | None = Field(
        description="The copy filed in the sender's Sent folder; null when the mailbox was full."
    )
