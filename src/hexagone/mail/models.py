"""The mail module's tables: mailboxes and their folders, messages, addresses, grants,
DKIM keys, app passwords and import runs.

A message's bytes live in the blob store (``org/<org>/mail/<sha256>``, shared by copies);
the row keeps what IMAP and the webmail need without opening the blob: flags, modseq,
the raw header block, the IMAP envelope, the MIME structure with byte offsets, a plain
text extract for search, and the threading keys.

UIDs and modseqs are allocated from the folder row (``uid_next``, ``highest_modseq``) by
one atomic ``UPDATE … RETURNING``, so two deliveries never share a UID and a UID is never
reused: UIDVALIDITY stays stable for the life of the folder, across restarts.
"""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from hexagone.core.db import Base, IdMixin, TimestampMixin, utcnow
from hexagone.core.tenancy import OrgScoped


class MailboxKind(enum.StrEnum):
    USER = "user"
    SHARED = "shared"


class SpecialUse(enum.StrEnum):
    """RFC 6154 attributes of the folders every mailbox starts with."""

    DRAFTS = "\\Drafts"
    SENT = "\\Sent"
    TRASH = "\\Trash"
    JUNK = "\\Junk"
    ARCHIVE = "\\Archive"


class Mailbox(IdMixin, OrgScoped, TimestampMixin, Base):
    """A user's mailbox, or a shared one (``contact@``) that users reach through grants."""

    __tablename__ = "mail_mailboxes"

    kind: Mapped[str] = mapped_column(String(16), default=MailboxKind.USER)
    user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    address: Mapped[str] = mapped_column(String(320), unique=True)
    display_name: Mapped[str] = mapped_column(String(200), default="")
    quota_bytes: Mapped[int] = mapped_column(BigInteger)
    used_bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    signature: Mapped[str] = mapped_column(Text, default="")
    vacation_enabled: Mapped[bool] = mapped_column(default=False)
    vacation_subject: Mapped[str] = mapped_column(String(300), default="")
    vacation_body: Mapped[str] = mapped_column(Text, default="")
    vacation_until: Mapped[datetime | None] = mapped_column(default=None)
    remote_images_allowed: Mapped[list[str]] = mapped_column(JSON, default=list)  # sender addresses


class MailboxGrant(IdMixin, OrgScoped, Base):
    """Delegation: a user may read (and write, and send as) a mailbox not their own."""

    __tablename__ = "mail_grants"
    __table_args__ = (UniqueConstraint("mailbox_id", "user_id"),)

    mailbox_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("mail_mailboxes.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    can_write: Mapped[bool] = mapped_column(default=True)
    can_send_as: Mapped[bool] = mapped_column(default=False)


class Address(IdMixin, OrgScoped, Base):
    """An extra address: an alias of a mailbox, or a group's distribution list."""

    __tablename__ = "mail_addresses"

    address: Mapped[str] = mapped_column(String(320), unique=True)
    mailbox_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("mail_mailboxes.id", ondelete="CASCADE"), index=True
    )
    group_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"), index=True)


INBOX = "INBOX"  # the name of every mailbox's inbox folder
DELIMITER = "/"  # the hierarchy delimiter of folder names


class Folder(IdMixin, OrgScoped, TimestampMixin, Base):
    """An IMAP mailbox (a folder of a Hexagone mailbox). ``name`` is the full path with
    ``/`` as the hierarchy delimiter; the inbox is always ``INBOX``."""

    __tablename__ = "mail_folders"
    __table_args__ = (UniqueConstraint("mailbox_id", "name"),)

    mailbox_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("mail_mailboxes.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(500))
    special_use: Mapped[str | None] = mapped_column(String(16), default=None)
    uidvalidity: Mapped[int] = mapped_column(BigInteger)
    uid_next: Mapped[int] = mapped_column(BigInteger, default=1)
    highest_modseq: Mapped[int] = mapped_column(BigInteger, default=1)
    # RFC 3501 \Recent: messages from this UID on are recent to the next session that
    # selects the folder, which moves it to uid_next in one compare-and-set UPDATE, so
    # exactly one session ever sees a message as recent.
    first_recent_uid: Mapped[int] = mapped_column(BigInteger, default=1, server_default="1")


class Subscription(IdMixin, OrgScoped, Base):
    """An IMAP subscription (RFC 3501 6.3.6, RFC 5258): a name in a user's LSUB list.
    A list of names, not a flag on folders: a client may subscribe to a name that does
    not exist (yet, or any more), and CREATE and DELETE leave the list alone."""

    __tablename__ = "mail_subscriptions"
    __table_args__ = (UniqueConstraint("user_id", "name"),)

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(500))


class Message(IdMixin, OrgScoped, Base):
    """One message in one folder. A copy is another row pointing at the same blob."""

    __tablename__ = "mail_messages"
    __table_args__ = (
        UniqueConstraint("folder_id", "uid"),
        # org_id last in the mailbox indexes, as in the folder one: the tenancy layer adds it to
        # every query, and SQLite (without ANALYZE statistics) otherwise prefers the org_id
        # index and reads every message of the organisation (400 ms on 40,000 messages).
        Index("ix_mail_messages_mailbox_message_id", "mailbox_id", "message_id", "org_id"),
        Index("ix_mail_messages_folder_modseq", "folder_id", "modseq"),
        # IMAP's hot reads (the UID list of SELECT, SEARCH UNSEEN/FLAGGED/DELETED) answered
        # from the index alone: org_id is in it because the tenancy layer adds it to every query.
        Index(
            "ix_mail_messages_folder_uid_flags",
            "folder_id",
            "org_id",
            "uid",
            "seen",
            "flagged",
            "deleted",
            "answered",
            "draft",
        ),
        Index("ix_mail_messages_mailbox_thread", "mailbox_id", "thread_id", "org_id"),
        Index("ix_mail_messages_folder_internal_date", "folder_id", "internal_date"),  # SEARCH SINCE/BEFORE/ON
        Index("ix_mail_messages_folder_sent_on", "folder_id", "sent_on"),  # SEARCH SENTSINCE/SENTBEFORE/SENTON
        # and the full-text index of subject and search_text (hexagone/mail/fulltext.py, migrations 0002, 0004)
    )

    mailbox_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("mail_mailboxes.id", ondelete="CASCADE"), index=True)
    folder_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("mail_folders.id", ondelete="CASCADE"))
    uid: Mapped[int] = mapped_column(BigInteger)
    modseq: Mapped[int] = mapped_column(BigInteger)
    seen: Mapped[bool] = mapped_column(default=False)
    answered: Mapped[bool] = mapped_column(default=False)
    flagged: Mapped[bool] = mapped_column(default=False)
    deleted: Mapped[bool] = mapped_column(default=False)
    draft: Mapped[bool] = mapped_column(default=False)
    keywords: Mapped[list[str]] = mapped_column(JSON, default=list)
    internal_date: Mapped[datetime] = mapped_column(default=utcnow)
    saved_at: Mapped[datetime | None] = mapped_column(
        default=utcnow
    )  # RFC 8514 SAVEDATE: when it came into this folder
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    blob_key: Mapped[str] = mapped_column(String(200))
    header: Mapped[bytes] = mapped_column(LargeBinary)
    envelope: Mapped[dict[str, Any]] = mapped_column(JSON)
    structure: Mapped[dict[str, Any]] = mapped_column(JSON)
    subject: Mapped[str] = mapped_column(Text, default="")
    from_addr: Mapped[str] = mapped_column(Text, default="")
    to_addrs: Mapped[str] = mapped_column(Text, default="")
    cc_addrs: Mapped[str] = mapped_column(Text, default="")
    bcc_addrs: Mapped[str] = mapped_column(Text, default="")
    sent_date: Mapped[datetime | None] = mapped_column(default=None)
    # the day of the Date header in the header's own time zone (RFC 3501 SENTBEFORE/SENTON/SENTSINCE)
    sent_on: Mapped[date | None] = mapped_column(default=None)
    message_id: Mapped[str] = mapped_column(String(500), default="")
    thread_id: Mapped[uuid.UUID] = mapped_column(default=uuid.uuid4)
    preview: Mapped[str] = mapped_column(String(300), default="")
    text: Mapped[str] = mapped_column(Text, default="")  # the readable extract (API, pages)
    # what IMAP SEARCH BODY and TEXT look into (hexagone/mail/searchtext.py)
    search_text: Mapped[str] = mapped_column(Text, default="", server_default="")
    part_headers: Mapped[str] = mapped_column(Text, default="", server_default="")
    has_attachments: Mapped[bool] = mapped_column(default=False)


class SieveScript(IdMixin, OrgScoped, TimestampMixin, Base):
    """A mailbox's Sieve script (RFC 5228), kept as its owner wrote it (ManageSieve, RFC 5804,
    or the webmail's rules page). At most one per mailbox is active: delivery runs it."""

    __tablename__ = "mail_sieve_scripts"
    __table_args__ = (UniqueConstraint("mailbox_id", "name"),)

    mailbox_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("mail_mailboxes.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    content: Mapped[str] = mapped_column(Text, default="")
    active: Mapped[bool] = mapped_column(default=False)


class DkimKey(IdMixin, OrgScoped, TimestampMixin, Base):
    """The signing key of one of the organisation's domains (RSA, PEM)."""

    __tablename__ = "mail_dkim_keys"

    domain: Mapped[str] = mapped_column(String(253), unique=True)
    selector: Mapped[str] = mapped_column(String(63))
    private_key_pem: Mapped[str] = mapped_column(Text)
    public_key_b64: Mapped[str] = mapped_column(Text)


class AppPassword(IdMixin, OrgScoped, TimestampMixin, Base):
    """A password for one mail client of a user with MFA (IMAP and SMTP cannot ask for a
    TOTP code). It is a random 100-bit secret shown once, so its SHA-256 is enough to
    store (like an API token) and a login finds it with one indexed lookup."""

    __tablename__ = "mail_app_passwords"

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    label: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    last_used_at: Mapped[datetime | None] = mapped_column(default=None)


class ImportRun(IdMixin, OrgScoped, TimestampMixin, Base):
    """A migration from another IMAP server (or an mbox/Maildir), with its progress, so
    that an interrupted import resumes and a finished one is not repeated."""

    __tablename__ = "mail_imports"

    mailbox_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("mail_mailboxes.id", ondelete="CASCADE"), index=True)
    source: Mapped[str] = mapped_column(String(500))  # imaps://user@host:port, never the password
    status: Mapped[str] = mapped_column(String(16), default="queued")
    total: Mapped[int] = mapped_column(Integer, default=0)
    done: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str] = mapped_column(Text, default="")
    progress: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # folder -> last copied source UID
    finished_at: Mapped[datetime | None] = mapped_column(default=None)


class OutboundMessage(IdMixin, OrgScoped, TimestampMixin, Base):
    """A message accepted for remote delivery: the queue of the outbound SMTP client.
    Its bytes (already DKIM-signed) are in the blob store until every recipient is done."""

    __tablename__ = "mail_outbound"

    mail_from: Mapped[str] = mapped_column(String(320))
    blob_key: Mapped[str] = mapped_column(String(200))
    size: Mapped[int] = mapped_column(BigInteger)
    expires_at: Mapped[datetime]


class OutboundRecipient(IdMixin, OrgScoped, Base):
    """One remote recipient of an outbound message and where its delivery stands."""

    __tablename__ = "mail_outbound_recipients"

    outbound_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("mail_outbound.id", ondelete="CASCADE"), index=True)
    address: Mapped[str] = mapped_column(String(320))
    status: Mapped[str] = mapped_column(String(16), default="queued")  # queued, sent, failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class VacationReply(IdMixin, OrgScoped, Base):
    """When a mailbox's auto-reply last answered a sender: RFC 3834 asks for one reply
    per sender per period, however many messages they send."""

    __tablename__ = "mail_vacation_replies"
    __table_args__ = (UniqueConstraint("mailbox_id", "sender"),)

    mailbox_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("mail_mailboxes.id", ondelete="CASCADE"), index=True)
    sender: Mapped[str] = mapped_column(String(320))
    replied_at: Mapped[datetime] = mapped_column(default=utcnow)
