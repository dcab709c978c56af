"""A file's preview, for whoever may read the file: the PNG the extraction job made of
its current version (:mod:`hexagone.drive.extraction.jobs`), or :class:`NotFound` while
there is none (a folder, a kind without previews, a file not read yet or unreadable).

Other modules have files of their own previewed the same way (:func:`preview_of_blob`: a
picture sent in the chat), so that there is one previewer, sandboxed once."""

from __future__ import annotations

import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from hexagone.core import blobs
from hexagone.core.auth import Principal
from hexagone.core.blobs import BlobNotFound
from hexagone.core.exceptions import NotFound
from hexagone.core.i18n import gettext as _
from hexagone.drive.extraction.formats import kind_of
from hexagone.drive.extraction.jobs import MAX_INPUT, fetch, preview_key, previewable, render_preview
from hexagone.drive.models import NodeKind, Version
from hexagone.drive.service.access import load

PREVIEW_TYPE = "image/png"


@dataclass(frozen=True)
class PreviewInfo:
    """A preview: of which file and version (a new version has a new one), and its size."""

    node_id: uuid.UUID
    version_id: uuid.UUID
    size: int
    content_type: str = PREVIEW_TYPE


async def preview(db: AsyncSession, principal: Principal, node_id: uuid.UUID) -> tuple[PreviewInfo, bytes]:
    """The preview of the file's current version, whole: a preview is small (512 pixels)."""
    found = await load(db, principal, node_id, "read")
    version_id = found.node.current_version_id
    version = await db.get(Version, version_id) if found.node.kind == NodeKind.FILE and version_id else None
    if version is None:
        raise NotFound(_("This file has no preview."))
    try:
        image = await blobs.get_store().read(preview_key(version.blob_key))
    except BlobNotFound:
        raise NotFound(_("This file has no preview.")) from None
    return PreviewInfo(found.node.id, version.id, len(image)), image


async def preview_of_blob(key: str, name: str, content_type: str, size: int) -> bytes | None:
    """A PNG of at most 512 pixels a side of a file that is not in a drive (the blob
    ``key`` of ``size`` bytes, stored by another module), made as the drive's own previews
    are (images and PDFs, office documents when LibreOffice is installed; read in the
    sandbox, within its limits); None for another kind, a file over the drive's size
    limit for previews, or one that cannot be read."""
    kind = kind_of(name, content_type)
    if kind is None or not previewable(kind) or size > MAX_INPUT:
        return None
    with tempfile.TemporaryDirectory(prefix="hexagone-preview-") as folder:
        source = Path(folder) / ("source" + Path(name).suffix.lower())
        await fetch(key, source)
        return await render_preview(kind, source, Path(folder))
