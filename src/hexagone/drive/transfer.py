"""One drive exported to a zip (``hexagone drive export``), in the format of the drive's
part of the organisation export, so that one reader serves both. The zip is written
under a temporary name and renamed at the end: the path never holds half an export."""

from __future__ import annotations

import uuid
import zipfile
from pathlib import Path
from typing import Any

from sqlalchemy import select

from hexagone.core.auth import Principal
from hexagone.core.db import org_session
from hexagone.core.export import ExportWriter, check_destination
from hexagone.drive import org_export, service
from hexagone.drive.models import Drive


async def export_one(who: Principal, drive_id: uuid.UUID, destination: Path) -> dict[str, Any]:
    """Write the drive ``who`` reaches to ``destination``; what was written."""
    check_destination(destination)
    partial = destination.with_name(destination.name + ".part")
    async with org_session(who.org_id) as db:
        await service.drive(db, who, drive_id)  # theirs to read, or NotFound
        drive = await db.scalar(select(Drive).where(Drive.id == drive_id))
        assert drive is not None
        try:
            with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED, allowZip64=True) as archive:
                writer = ExportWriter(archive, "drive/", destination.parent)
                folder = await org_export.folder_of(db, drive)
                entry = await org_export.export_drive(db, drive, writer, folder)
                writer.write_json(org_export.INDEX, [entry])
            partial.replace(destination)
        finally:
            partial.unlink(missing_ok=True)
    return {"drive": str(drive_id), "folder": entry["folder"], "files": entry["files"], "versions": entry["versions"]}
