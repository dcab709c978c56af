"""Importing a folder tree from disk into a drive (``hexagone drive import``): the way in
for an organisation bringing its file server along.

Folders are made as needed, files streamed from disk through the service's
:func:`~hexagone.drive.service.store` as any upload is (quota and names checked, a new
version when the name is there). A file whose content is already the current version's
(same SHA-256) is left alone, so running an import again adds nothing twice. A name the
drive refuses (a reserved Windows name, a control character) is skipped and reported;
symbolic links are not followed.
"""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from hexagone.core.auth import Principal
from hexagone.core.db import org_session
from hexagone.core.exceptions import Conflict, Invalid, NotFound, ServiceError
from hexagone.drive import service

PIECE = 1 << 20


@dataclass
class Report:
    folders: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: list[str] = field(default_factory=list)  # "path in the source folder: why"


async def _read(path: Path) -> AsyncIterator[bytes]:
    file: BinaryIO = await asyncio.to_thread(path.open, "rb")
    try:
        while chunk := await asyncio.to_thread(file.read, PIECE):
            yield chunk
    finally:
        file.close()


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while chunk := file.read(PIECE):
            digest.update(chunk)
    return digest.hexdigest()


async def _folder(who: Principal, parent_id: uuid.UUID, name: str) -> uuid.UUID:
    """The folder ``name`` in the parent, made if missing."""
    async with org_session(who.org_id, write=True) as db:
        listing = await service.list_folder(db, who, parent_id, limit=None)
        wanted = service.clean_name(name).casefold()
        for entry in listing.entries:
            if entry.is_folder and entry.name.casefold() == wanted:
                return entry.id
        made = await service.create_folder(db, who, parent_id, name)
        await db.commit()
        return made.id


async def _current(who: Principal, folder_id: uuid.UUID, drive_id: uuid.UUID, path: str) -> str | None:
    """The SHA-256 of the current version of the file at ``path``, if there is one."""
    async with org_session(who.org_id) as db:
        try:
            found = await service.resolve_path(db, who, drive_id, path)
        except NotFound:
            return None
        if found.is_folder:
            return None
        return next((v.sha256 for v in await service.versions(db, who, found.id) if v.current), None)


async def import_tree(
    who: Principal,
    source: Path,
    drive_id: uuid.UUID,
    into: str = "",
    progress: Callable[[str], None] | None = None,
) -> Report:
    """Copy the tree under ``source`` into the drive, under the folder path ``into``."""
    if not await asyncio.to_thread(source.is_dir):
        raise Invalid(f"{source} is not a folder")
    report = Report()
    async with org_session(who.org_id) as db:
        target = await service.resolve_path(db, who, drive_id, "")
    folder_id, prefix = target.id, ""
    for part in [p for p in into.split("/") if p]:
        folder_id = await _folder(who, folder_id, part)
        prefix = f"{prefix}/{part}" if prefix else part
    await _walk(who, source, source, folder_id, drive_id, prefix, report, progress)
    return report


async def _walk(
    who: Principal,
    source: Path,
    directory: Path,
    folder_id: uuid.UUID,
    drive_id: uuid.UUID,
    prefix: str,
    report: Report,
    progress: Callable[[str], None] | None,
) -> None:
    for entry in sorted(await asyncio.to_thread(lambda: list(directory.iterdir())), key=lambda p: p.name):
        path = f"{prefix}/{entry.name}" if prefix else entry.name  # in the drive
        local = entry.relative_to(source).as_posix()  # what the report names
        try:
            if entry.is_symlink():
                report.skipped.append(f"{local}: a symbolic link")
            elif entry.is_dir():
                child = await _folder(who, folder_id, entry.name)
                report.folders += 1
                await _walk(who, source, entry, child, drive_id, path, report, progress)
            elif entry.is_file():
                await _file(who, entry, folder_id, drive_id, path, report)
                if progress is not None:
                    progress(local)
        except (Invalid, Conflict) as exc:
            report.skipped.append(f"{local}: {exc.message}")
        except ServiceError:
            raise  # a full drive, a lost right: the rest would fail the same way


async def _file(
    who: Principal, entry: Path, folder_id: uuid.UUID, drive_id: uuid.UUID, path: str, report: Report
) -> None:
    current = await _current(who, folder_id, drive_id, path)
    if current is not None and current == await asyncio.to_thread(_sha256, entry):
        report.unchanged += 1
        return
    await service.store(who, folder_id, entry.name, _read(entry))
    if current is None:
        report.created += 1
    else:
        report.updated += 1
