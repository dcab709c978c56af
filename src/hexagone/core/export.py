"""An organisation's export: one zip file holding everything the installed modules keep
for it, in open formats (JSON, mbox…), so that an organisation can leave with its data.

The core writes ``manifest.json`` (format version, organisation, date, modules) and asks
each module for its part (``Module.export``), which it writes under a folder named after
the module through an :class:`ExportWriter`. Each exporter gets a session limited to the
organisation (:func:`~hexagone.core.db.org_session`), so no row of another organisation
can slip in.

Everything streams to disk: JSON documents are small, and bulky parts (mailboxes) are
written to a staging directory on disk one piece at a time, then copied into the zip by
chunks and deleted. The zip is written under a temporary name and renamed at the end, so
the path never holds a half-written export.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import tempfile
import uuid
import zipfile
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from hexagone.core.db import org_session, utcnow
from hexagone.core.encoding import json_default
from hexagone.core.exceptions import Invalid
from hexagone.core.i18n import gettext as _

FORMAT_VERSION = 1
MANIFEST = "manifest.json"


class ExportWriter:
    """Where a module writes its part of the export: paths are relative to its folder."""

    def __init__(self, archive: zipfile.ZipFile, prefix: str, staging: Path):
        self._archive = archive
        self._prefix = prefix
        self._staging = staging

    def write_json(self, name: str, document: Any) -> None:
        """A JSON document (UUIDs and dates become strings)."""
        data = json.dumps(document, default=json_default, ensure_ascii=False, indent=2)
        self._archive.writestr(self._prefix + name, data)

    def write_text(self, name: str, text: str) -> None:
        """A text file in UTF-8 (an ``.ics`` or ``.vcf`` file, say)."""
        self._archive.writestr(self._prefix + name, text.encode())

    async def write_stream(self, name: str, chunks: AsyncIterator[bytes]) -> None:
        """A file whose bytes come as chunks (a blob read from the store): written as they
        come, never held whole; compressing runs in a thread, off the event loop."""
        with self._archive.open(self._prefix + name, "w", force_zip64=True) as target:
            async for chunk in chunks:
                await asyncio.to_thread(target.write, chunk)

    @contextlib.contextmanager
    def staging_dir(self) -> Iterator[Path]:
        """An empty directory on disk to write a bulky part into with tools that need a
        filesystem (mailbox files); add it with :meth:`add_tree`. Deleted on exit."""
        path = Path(tempfile.mkdtemp(dir=self._staging))
        try:
            yield path
        finally:
            shutil.rmtree(path, ignore_errors=True)

    def add_tree(self, directory: Path, under: str = "") -> None:
        """Copy every file below ``directory`` into the export, under ``under``, keeping
        the tree; the files are read by chunks, never whole."""
        base = self._prefix + (under.strip("/") + "/" if under.strip("/") else "")
        for root, dirs, files in os.walk(directory):
            dirs.sort()
            for name in sorted(files):
                path = Path(root) / name
                self._archive.write(path, base + path.relative_to(directory).as_posix())


# A module's part of the export (``Module.export``), reading through a session limited to
# the organisation.
Exporter = Callable[[AsyncSession, uuid.UUID, ExportWriter], Awaitable[None]]


def check_destination(destination: Path) -> None:
    """An export never overwrites a file: it goes to a new ``.zip`` in an existing folder."""
    if destination.suffix.lower() != ".zip":
        raise Invalid(_("The export is a .zip file: %(path)s", path=str(destination)))
    if destination.exists():
        raise Invalid(_("%(path)s already exists: choose a new file.", path=str(destination)))
    if not destination.parent.is_dir():
        raise Invalid(_("The folder %(path)s does not exist.", path=str(destination.parent)))


async def export_organisation(
    parts: Sequence[tuple[str, Exporter]], org_id: uuid.UUID, organisation: dict[str, Any], destination: Path
) -> dict[str, Any]:
    """Write the organisation's export to ``destination`` (a new ``.zip`` file) and
    return its manifest. ``parts`` are the exporters of the modules the organisation
    sees, by module name (:meth:`~hexagone.core.modules.Registry.exporters`);
    ``organisation`` says in the manifest which one it is (id, name, domain)."""
    check_destination(destination)
    manifest = {
        "format": FORMAT_VERSION,
        "organisation": organisation,
        "created_at": utcnow(),
        "modules": [name for name, _export in parts],
    }
    partial = destination.with_name(destination.name + ".part")
    try:
        with (
            tempfile.TemporaryDirectory(dir=destination.parent, prefix=".export-") as staging,
            zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED, allowZip64=True) as archive,
        ):
            ExportWriter(archive, "", Path(staging)).write_json(MANIFEST, manifest)
            for name, export in parts:
                async with org_session(org_id) as db:
                    await export(db, org_id, ExportWriter(archive, f"{name}/", Path(staging)))
        partial.replace(destination)
    finally:
        partial.unlink(missing_ok=True)
    return json.loads(json.dumps(manifest, default=json_default))
