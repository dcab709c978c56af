"""The drive module's tables (issue #18): drives, the folder and file tree, the versions
of each file, locks, WebDAV dead properties, metadata (tags, custom fields), favourites,
recent files, shares, extracted text, and the organisation's drive settings.

Every drive has a root folder (a node without a parent); everything else hangs under a
parent. A name is unique in its folder among the nodes not in the trash, compared by
``name_key`` (NFC, then case-folded), so "Été.txt" and "ÉTÉ.TXT" cannot sit side by side,
as on the file systems people sync with. Trashing a node sets ``trashed_at`` on it alone:
its subtree goes with it because every path walks down from the root through nodes not
in the trash.

A file's bytes are in the blob store, one blob per version
(``org/<org id>/drive/<version id>``). A copy shares its source's blobs: a blob is
deleted when no version names it any more. ``drive_drives.used_bytes`` is the sum of the
sizes of every version of the drive's files (trash included), kept with an ``UPDATE``
in the transaction that adds or removes a version, so it is exact without a scan.
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text, UniqueConstraint, false, text
from sqlalchemy.orm import Mapped, mapped_column

from hexagone.core.db import Base, IdMixin, TimestampMixin, utcnow
from hexagone.core.tenancy import OrgScoped


class DriveKind(enum.StrEnum):
    PERSONAL = "personal"
    SPACE = "space"


class NodeKind(enum.StrEnum):
    FOLDER = "folder"
    FILE = "file"


class Role(enum.StrEnum):
    """What a share grants on a node and everything under it, in increasing order: read
    and download; also write, upload, rename and trash; also share and manage."""

    READER = "reader"
    EDITOR = "editor"
    MANAGER = "manager"


class LockKind(enum.StrEnum):
    DAV = "dav"  # a WebDAV LOCK: writes need its token
    CHECKOUT = "checkout"  # checked out from the web: only its holder writes, until check-in


class DriveSettings(IdMixin, OrgScoped, Base):
    """An organisation's drive rules; an organisation without a row has the defaults
    (:data:`hexagone.drive.service.settings.DEFAULTS`). Quotas in bytes, None: no limit."""

    __tablename__ = "drive_settings"
    __table_args__ = (UniqueConstraint("org_id", name="uq_drive_settings_org_id"),)

    quota_bytes: Mapped[int | None] = mapped_column(BigInteger, default=None)  # the whole organisation
    user_quota_bytes: Mapped[int | None] = mapped_column(BigInteger, default=None)  # each personal drive
    space_quota_bytes: Mapped[int | None] = mapped_column(BigInteger, default=None)  # each space drive
    keep_versions: Mapped[int] = mapped_column(Integer)  # older versions beyond this count are pruned
    keep_version_days: Mapped[int] = mapped_column(Integer)  # and those older than this
    trash_days: Mapped[int] = mapped_column(Integer)  # the trash is purged after this


class Drive(IdMixin, OrgScoped, TimestampMixin, Base):
    """A user's personal drive or a space's. Exactly one of ``owner_id``, ``space_id``."""

    __tablename__ = "drive_drives"

    kind: Mapped[str] = mapped_column(String(16))
    owner_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), unique=True, default=None
    )
    space_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("spaces.id", ondelete="CASCADE"), unique=True, default=None
    )
    # The root folder (a node of this drive without parent); set right after both exist.
    root_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    quota_bytes: Mapped[int | None] = mapped_column(BigInteger, default=None)  # None: the organisation's default
    used_bytes: Mapped[int] = mapped_column(BigInteger, default=0)


class Node(IdMixin, OrgScoped, Base):
    """A folder or a file. ``current_version_id`` names the file's version that reads
    return (no foreign key: versions point to their node, and the pair would be a cycle)."""

    __tablename__ = "drive_nodes"
    __table_args__ = (
        # One name per folder among nodes not in the trash; also the listing's index.
        Index(
            "uq_drive_nodes_parent_name",
            "parent_id",
            "name_key",
            unique=True,
            sqlite_where=text("trashed_at IS NULL"),
            postgresql_where=text("trashed_at IS NULL"),
        ),
        Index("ix_drive_nodes_trash", "drive_id", "trashed_at"),
        Index("ix_drive_nodes_parent", "parent_id"),
    )

    drive_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("drive_drives.id", ondelete="CASCADE"))
    parent_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("drive_nodes.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(8))
    name: Mapped[str] = mapped_column(String(255))
    name_key: Mapped[str] = mapped_column(String(1020))  # NFC + casefold: what "the same name" means
    current_version_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    size: Mapped[int] = mapped_column(BigInteger, default=0)  # the current version's
    etag: Mapped[str] = mapped_column(String(64))  # changes with every write (a folder: with its entries)
    content_type: Mapped[str] = mapped_column(String(255), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    modified_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    modified_at: Mapped[datetime] = mapped_column(default=utcnow)
    trashed_at: Mapped[datetime | None] = mapped_column(default=None)
    trashed_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), default=None)
    # Whether the current version's preview is in the blob store (set by the extraction
    # job, cleared by a new version): the listing's thumbnails, without a look per entry.
    has_preview: Mapped[bool] = mapped_column(default=False, server_default=false())
    # Where it was when trashed (restore puts it back there, or at the root when that is gone).
    original_parent_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("drive_nodes.id", ondelete="SET NULL"), default=None
    )


class Version(IdMixin, OrgScoped, Base):
    """One content of a file; a write makes the next number, never changes one."""

    __tablename__ = "drive_versions"
    __table_args__ = (UniqueConstraint("node_id", "number", name="uq_drive_versions_number"),)

    node_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("drive_nodes.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    blob_key: Mapped[str] = mapped_column(String(1024), index=True)
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    content_type: Mapped[str] = mapped_column(String(255), default="")
    created_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Lock(IdMixin, OrgScoped, TimestampMixin, Base):
    """A WebDAV lock or a check-out. ``node_id`` is None for a WebDAV lock on a name that
    does not exist yet (``path`` under the drive says which)."""

    __tablename__ = "drive_locks"

    drive_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("drive_drives.id", ondelete="CASCADE"), index=True)
    node_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("drive_nodes.id", ondelete="CASCADE"), index=True)
    path: Mapped[str] = mapped_column(Text, default="")
    token: Mapped[str] = mapped_column(String(100), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    scope: Mapped[str] = mapped_column(String(16), default="exclusive")  # or shared
    depth: Mapped[str] = mapped_column(String(16), default="0")  # or infinity
    owner_xml: Mapped[str] = mapped_column(Text, default="")  # the DAV:owner element, kept as sent
    user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    expires_at: Mapped[datetime | None] = mapped_column(default=None)  # None: until released


class Property(IdMixin, OrgScoped, Base):
    """A WebDAV dead property of a node: it follows the node through moves."""

    __tablename__ = "drive_props"
    __table_args__ = (UniqueConstraint("node_id", "namespace", "name", name="uq_drive_props_name"),)

    node_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("drive_nodes.id", ondelete="CASCADE"))
    namespace: Mapped[str] = mapped_column(String(1000))
    name: Mapped[str] = mapped_column(String(255))
    value: Mapped[str] = mapped_column(Text)  # the property element's XML, as sent


class Tag(IdMixin, OrgScoped, Base):
    __tablename__ = "drive_tags"
    __table_args__ = (UniqueConstraint("node_id", "key", name="uq_drive_tags_key"),)

    node_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("drive_nodes.id", ondelete="CASCADE"))
    label: Mapped[str] = mapped_column(String(100))
    key: Mapped[str] = mapped_column(String(400), index=True)  # NFC + casefold of the label


class FieldKind(enum.StrEnum):
    TEXT = "text"
    NUMBER = "number"
    DATE = "date"
    CHOICE = "choice"


class FieldDef(IdMixin, OrgScoped, TimestampMixin, Base):
    """A custom field a space's drive asks of its documents (the document-management part)."""

    __tablename__ = "drive_field_defs"
    __table_args__ = (UniqueConstraint("drive_id", "key", name="uq_drive_field_defs_key"),)

    drive_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("drive_drives.id", ondelete="CASCADE"))
    label: Mapped[str] = mapped_column(String(100))
    key: Mapped[str] = mapped_column(String(400))
    kind: Mapped[str] = mapped_column(String(16), default=FieldKind.TEXT)
    choices: Mapped[str] = mapped_column(Text, default="")  # one per line (kind choice)
    position: Mapped[int] = mapped_column(Integer, default=0)


class FieldValue(IdMixin, OrgScoped, Base):
    __tablename__ = "drive_field_values"
    __table_args__ = (UniqueConstraint("node_id", "field_id", name="uq_drive_field_values_field"),)

    node_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("drive_nodes.id", ondelete="CASCADE"))
    field_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("drive_field_defs.id", ondelete="CASCADE"), index=True)
    value: Mapped[str] = mapped_column(Text)


class Favourite(IdMixin, OrgScoped, TimestampMixin, Base):
    __tablename__ = "drive_favourites"
    __table_args__ = (UniqueConstraint("user_id", "node_id", name="uq_drive_favourites_node"),)

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    node_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("drive_nodes.id", ondelete="CASCADE"), index=True)


class Recent(IdMixin, OrgScoped, Base):
    """A file a user opened or wrote, with when they last did."""

    __tablename__ = "drive_recent"
    __table_args__ = (
        UniqueConstraint("user_id", "node_id", name="uq_drive_recent_node"),
        Index("ix_drive_recent_user_at", "user_id", "at"),
    )

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    node_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("drive_nodes.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)


class Share(IdMixin, OrgScoped, TimestampMixin, Base):
    """A node and its subtree reachable by a user, a group's members or a space's
    members, with a role. Exactly one grantee is set."""

    __tablename__ = "drive_shares"

    node_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("drive_nodes.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True, default=None
    )
    group_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("groups.id", ondelete="CASCADE"), index=True, default=None
    )
    space_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("spaces.id", ondelete="CASCADE"), index=True, default=None
    )
    role: Mapped[str] = mapped_column(String(16), default=Role.READER)
    created_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), default=None)


class ExtractedText(OrgScoped, Base):
    """The text extracted from a version (PDF, ODF, OOXML…), for unified search: written
    by the text-extraction job, read by :mod:`hexagone.drive.search`. One row per version."""

    __tablename__ = "drive_texts"

    version_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("drive_versions.id", ondelete="CASCADE"), primary_key=True)
    node_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("drive_nodes.id", ondelete="CASCADE"), index=True)
    text: Mapped[str] = mapped_column(Text, default="")
    extractor: Mapped[str] = mapped_column(String(64), default="")  # which library, which version
    extracted_at: Mapped[datetime] = mapped_column(default=utcnow)


class LinkMode(enum.StrEnum):
    VIEW = "view"  # see and download what the link names
    UPLOAD = "upload"  # a file drop: send files into the folder, see nothing of it


class Link(IdMixin, OrgScoped, TimestampMixin, Base):
    """A public link to a node (:mod:`hexagone.drive.service.links`). Only the SHA-256 of
    its token is kept: the address is shown once, when the link is made; ``hint`` (the
    token's first characters) lets its owner tell links apart. It acts with the rights
    of ``created_by`` at each use, so it dies with them."""

    __tablename__ = "drive_links"

    node_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("drive_nodes.id", ondelete="CASCADE"), index=True)
    created_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    token_digest: Mapped[str] = mapped_column(String(64), unique=True)
    hint: Mapped[str] = mapped_column(String(8))
    mode: Mapped[str] = mapped_column(String(16), default=LinkMode.VIEW)
    password_hash: Mapped[str | None] = mapped_column(Text, default=None)  # argon2id, core's hasher
    expires_at: Mapped[datetime | None] = mapped_column(default=None)
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)
    revoked_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), default=None)
    opened: Mapped[int] = mapped_column(Integer, default=0)  # pages seen
    downloads: Mapped[int] = mapped_column(Integer, default=0)
    uploads: Mapped[int] = mapped_column(Integer, default=0)
    last_used_at: Mapped[datetime | None] = mapped_column(default=None)


class Upload(IdMixin, OrgScoped, TimestampMixin, Base):
    """A resumable (tus) upload under way: the bytes go to the blob store's multipart
    upload ``blob_upload`` in parts of the store's part size, the bytes past the last
    whole part wait in a blob of their own (``<blob key>.tail<offset>``) until the next
    request brings more; ``parts`` is the JSON list of the parts stored so far. Completing
    it makes the file (through the same checks as any store); expiring it drops it all."""

    __tablename__ = "drive_uploads"

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    folder_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("drive_nodes.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(Text)
    on_conflict: Mapped[str] = mapped_column(String(16), default="rename")
    version_id: Mapped[uuid.UUID] = mapped_column()
    blob_upload: Mapped[str] = mapped_column(String(64))
    length: Mapped[int] = mapped_column(BigInteger)
    offset: Mapped[int] = mapped_column(BigInteger, default=0)
    parts: Mapped[str] = mapped_column(Text, default="[]")
    expires_at: Mapped[datetime] = mapped_column(index=True)
