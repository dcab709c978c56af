"""What the drive's pages share: the frame around every page (the drives, the one shown
and its quota bar, the links to the lists), addresses, and the notices of changes."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response

from hexagone.core import pages
from hexagone.core.auth import Principal
from hexagone.core.exceptions import ServiceError
from hexagone.core.i18n import N_
from hexagone.drive import service

pages.notices(
    {
        "drive_uploaded": N_("The file is uploaded."),
        "drive_folder_made": N_("The folder is made."),
        "drive_renamed": N_("The name is changed."),
        "drive_moved": N_("Moved."),
        "drive_copied": N_("Copied."),
        "drive_trashed": N_("Put in the trash."),
        "drive_restored": N_("Put back."),
        "drive_purged": N_("Deleted for good."),
        "drive_emptied": N_("The trash is empty."),
        "drive_version_restored": N_("That version is the current one again."),
        "drive_checked_out": N_("The file is checked out: only you change it until you check it in."),
        "drive_checked_in": N_("The file is checked in."),
        "drive_details_saved": N_("The details are saved."),
        "drive_favourite": N_("Your favourites are updated."),
        "drive_shared": N_("The share is saved."),
        "drive_unshared": N_("The share is withdrawn."),
        "drive_field_defined": N_("The field is defined."),
        "drive_field_removed": N_("The field is removed."),
    }
)


def folder_url(folder_id: uuid.UUID) -> str:
    return f"/drive/folders/{folder_id}"


def node_url(node_id: uuid.UUID) -> str:
    return f"/drive/nodes/{node_id}"


async def frame(db: AsyncSession, principal: Principal, drive_id: uuid.UUID | None) -> dict[str, Any]:
    """The drives beside every page, and the one shown (None when the principal reaches
    only part of it, through a share)."""
    drives = await service.drives(db, principal)
    return {"drives": drives, "drive": next((d for d in drives if d.id == drive_id), None)}


async def render(
    request: Request,
    template: str,
    db: AsyncSession,
    drive_id: uuid.UUID | None,
    context: dict[str, Any],
    error: ServiceError | None = None,
) -> Response:
    principal = pages.me(request)
    return pages.render(request, template, {**await frame(db, principal, drive_id), **context}, error)
