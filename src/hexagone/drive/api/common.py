"""What the drive API's routes share: the error responses they declare, the caller's
session, and the bodies of drives and nodes."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from fastapi import Query
from pydantic import BaseModel, Field

from hexagone.core.api import Text, error_responses
from hexagone.drive import service

DESCRIBED = {
    400: "A value is refused (a name a file system cannot hold, a range outside the file, a folder where a file "
    "is wanted, an unknown field); the message says why.",
    409: "The name is taken in the target folder (or a folder would go inside itself, or an upload is not at "
    "the offset sent).",
    412: "Another version of the tus protocol than 1.0.0 (Tus-Version names the one spoken).",
    411: "A tus PATCH must state its Content-Length.",
    413: "The upload is larger than the largest file the drive takes.",
    415: "A tus PATCH sends application/offset+octet-stream.",
    416: "The byte range asked for is not in the file.",
    423: "Someone else holds a lock on the node (a check-out or a WebDAV lock).",
    507: "The drive (or the organisation) has not enough room left.",
}

OnConflict = Literal["error", "rename", "replace"]
Offset = Annotated[int, Query(ge=0, le=1_000_000_000, description="Entries to skip.")]
Limit = Annotated[int, Query(ge=1, le=10_000, description="Entries in the page.")]


def errors(*statuses: int) -> dict[int | str, dict[str, object]]:
    """The error responses of a drive route, beside the 401/403/404 every route declares."""
    return error_responses(DESCRIBED, *statuses)


class LockOut(BaseModel):
    kind: str = Field(description="checkout (from the web) or dav (a WebDAV lock).")
    user_id: uuid.UUID | None = Field(description="Who holds it.")
    expires_at: datetime | None


class NodeOut(BaseModel):
    id: uuid.UUID
    drive_id: uuid.UUID
    parent_id: uuid.UUID | None
    kind: str = Field(description="folder or file.")
    name: str
    size: int
    etag: str
    content_type: str
    description: str
    version_id: uuid.UUID | None = Field(description="The current version (None in a listing and for folders).")
    created_at: datetime
    modified_at: datetime
    modified_by: uuid.UUID | None
    trashed_at: datetime | None
    has_preview: bool = Field(description="A PNG preview of the current version is at GET /drive/previews/{id}.")
    lock: LockOut | None
    abilities: dict[str, bool] = Field(description="What the caller may do: view, read, write, manage, share.")

    @classmethod
    def of(cls, node: service.NodeInfo) -> NodeOut:
        lock = node.lock
        return cls(
            id=node.id,
            drive_id=node.drive_id,
            parent_id=node.parent_id,
            kind=node.kind,
            name=node.name,
            size=node.size,
            etag=node.etag,
            content_type=node.content_type,
            description=node.description,
            version_id=node.version_id,
            created_at=node.created_at,
            modified_at=node.modified_at,
            modified_by=node.modified_by,
            trashed_at=node.trashed_at,
            has_preview=node.has_preview,
            lock=LockOut(kind=lock.kind, user_id=lock.user_id, expires_at=lock.expires_at) if lock else None,
            abilities=node.abilities,
        )


class DriveOut(BaseModel):
    id: uuid.UUID
    kind: str = Field(description="personal or space.")
    owner_id: uuid.UUID | None
    space_id: uuid.UUID | None
    name: str
    root_id: uuid.UUID
    quota_bytes: int | None = Field(description="None: no limit.")
    used_bytes: int
    role: str = Field(description='reader, editor or manager on the whole drive ("" through shares only).')

    @classmethod
    def of(cls, drive: service.DriveInfo) -> DriveOut:
        return cls(
            id=drive.id,
            kind=drive.kind,
            owner_id=drive.owner_id,
            space_id=drive.space_id,
            name=drive.name,
            root_id=drive.root_id,
            quota_bytes=drive.quota_bytes,
            used_bytes=drive.used_bytes,
            role=drive.role,
        )


class NameIn(BaseModel):
    name: Text = Field(min_length=1, max_length=1000)


class FolderIn(NameIn):
    on_conflict: Literal["error", "rename"] = "error"


class RenameIn(NameIn):
    on_conflict: OnConflict = "error"


class PlaceIn(BaseModel):
    """Where a node goes (move) or where its copy goes."""

    folder_id: uuid.UUID
    name: Text | None = Field(default=None, min_length=1, max_length=1000, description="A new name (default: its own).")
    on_conflict: OnConflict = Field(
        default="error", description="When the name is taken: error (409), rename (numbered) or replace (trashed)."
    )
