"""The job that reads a stored version: ``drive.extract``, planned in the transaction that
adds the version (:func:`plan`), so it exists exactly when the version does.

It fetches the blob to a private temporary folder, then runs each reader in the sandbox
(:mod:`.sandbox`) with a wall-clock limit (plain text excepted: only decoded, in a
thread): the text goes to ``drive_texts`` (an empty text when the file could not be
read, so that it is not tried again), the preview to the
blob store under :func:`preview_key`. An office document is first converted to PDF by
LibreOffice (``soffice --headless --convert-to pdf``) when it is installed, with a
profile of its own and a time limit, and its preview is that PDF's first page.

A preview is keyed by the version's blob, not the version: a copy or a restored version
shares its source's blob, and so its preview; the blob collection deletes a preview with
its blob. Files larger than :data:`MAX_INPUT` are not read. The job is idempotent: what
exists already (the text row, the preview blob) is not made again.
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import sys
import tempfile
import uuid
from importlib import metadata
from pathlib import Path
from typing import BinaryIO

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from hexagone.core import blobs, jobs
from hexagone.core.db import org_session, utcnow
from hexagone.core.jobs import Claimed, JobSpec, PermanentFailure
from hexagone.drive.extraction.formats import (
    MAX_TEXT_FILE,
    OFFICE_KINDS,
    PREVIEW_KINDS,
    TEXT_KINDS,
    ZIPPED_KINDS,
    Unreadable,
    check_zip,
    decode_text,
    kind_of,
)
from hexagone.drive.models import ExtractedText, Node, Version

EXTRACT_JOB = "drive.extract"
MAX_INPUT = 100 << 20  # bytes: larger files are neither read nor previewed
TIMEOUT = 30  # seconds of wall clock (and of CPU) for one reader
OFFICE_TIMEOUT = 120  # seconds for LibreOffice's conversion
# Which library reads which kind (``drive_texts.extractor`` names it with its version).
LIBRARIES = {
    "pdf": "pypdfium2",
    "docx": "python-docx",
    "pptx": "python-pptx",
    "xlsx": "openpyxl",
    "odf": "defusedxml",
    "text": "charset-normalizer",
}

log = logging.getLogger("hexagone.drive.extraction")


def plan(db: AsyncSession, org_id: uuid.UUID, version_id: uuid.UUID, name: str, content_type: str, size: int) -> None:
    """Read the version once the caller's transaction commits, if it is of a kind read
    and not too large: a job for every file would be one for each of the thousands of
    small binary files a sync client uploads, each costing the job worker a claim and a
    finish for nothing."""
    if kind_of(name, content_type) is not None and size <= MAX_INPUT:
        jobs.enqueue(db, EXTRACT_JOB, {"version_id": str(version_id)}, org_id=org_id)


def preview_key(blob_key: str) -> str:
    return f"{blob_key}.preview"


def office_converter() -> str | None:
    """LibreOffice's ``soffice``, when it is installed."""
    return shutil.which("soffice") or shutil.which("libreoffice")


async def run_sandboxed(task: str, kind: str, source: Path, target: Path, seconds: int = TIMEOUT) -> bytes | None:
    """What the sandbox wrote for ``task`` (``text`` or ``preview``), or None when the
    file could not be read in time and within the limits."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8"}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "hexagone.drive.extraction.sandbox",
        task,
        kind,
        str(source),
        str(target),
        str(seconds),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
        env=env,
    )
    try:
        _out, err = await asyncio.wait_for(process.communicate(), seconds + 5)
    except TimeoutError:
        process.kill()
        await process.wait()
        log.info("%s of a %s file: gave up after %s s", task, kind, seconds)
        return None
    if process.returncode != 0:
        log.info("%s of a %s file failed: %s", task, kind, err.decode("utf-8", "replace").strip()[:300])
        return None
    return await asyncio.to_thread(target.read_bytes)


async def _to_pdf(source: Path, folder: Path) -> Path | None:
    """The office document converted to PDF by LibreOffice, or None."""
    soffice = office_converter()
    if soffice is None:
        return None
    out = folder / "converted"
    profile = (folder / "profile").as_uri()
    process = await asyncio.create_subprocess_exec(
        soffice,
        "--headless",
        "--norestore",
        "--nolockcheck",
        f"-env:UserInstallation={profile}",
        "--convert-to",
        "pdf",
        "--outdir",
        str(out),
        str(source),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(folder), "LANG": "C.UTF-8"},
    )
    try:
        await asyncio.wait_for(process.wait(), OFFICE_TIMEOUT)
    except TimeoutError:
        process.kill()
        await process.wait()
        log.info("LibreOffice gave up converting a document after %s s", OFFICE_TIMEOUT)
        return None
    converted = out / (source.stem + ".pdf")
    return converted if process.returncode == 0 and await asyncio.to_thread(converted.exists) else None


def _extractor(kind: str) -> str:
    library = LIBRARIES[kind]
    try:
        return f"{library} {metadata.version(library)}"[:64]
    except metadata.PackageNotFoundError:
        return library


async def _save_text(org_id: uuid.UUID, version_id: uuid.UUID, node_id: uuid.UUID, text: str, kind: str) -> None:
    try:
        async with org_session(org_id, write=True) as db:
            if await db.get(Version, version_id) is None or await db.get(ExtractedText, version_id) is not None:
                return  # gone meanwhile, or read by another run
            db.add(
                ExtractedText(
                    org_id=org_id,
                    version_id=version_id,
                    node_id=node_id,
                    text=text.replace("\x00", ""),
                    extractor=_extractor(kind),
                    extracted_at=utcnow(),
                )
            )
            await db.commit()
    except IntegrityError:  # the version went, or another run wrote its text first
        return


async def fetch(key: str, target: Path) -> None:
    """The blob ``key`` copied to ``target``, a file the sandbox may read."""
    handle: BinaryIO = await asyncio.to_thread(target.open, "wb")
    try:
        async for chunk in await blobs.get_store().get(key):
            await asyncio.to_thread(handle.write, chunk)
    finally:
        await asyncio.to_thread(handle.close)


def previewable(kind: str | None) -> bool:
    """Whether files of ``kind`` get a preview here: images and PDFs, and office documents
    when LibreOffice is installed."""
    return kind in PREVIEW_KINDS or (kind in OFFICE_KINDS and office_converter() is not None)


async def render_preview(kind: str, source: Path, folder: Path) -> bytes | None:
    """The PNG preview of ``source``, a file of ``kind``, made in the sandbox (``folder``
    is a private temporary folder for what is made on the way); None when it cannot be."""
    if kind in PREVIEW_KINDS:
        return await run_sandboxed("preview", kind, source, folder / "preview.png")
    if kind in ZIPPED_KINDS:  # LibreOffice gets no zip bomb either
        try:
            await asyncio.to_thread(check_zip, source)
        except Unreadable:
            return None
    converted = await _to_pdf(source, folder)
    if converted is None:
        return None
    return await run_sandboxed("preview", "pdf", converted, folder / "preview.png")


async def _decoded(blob_key: str, size: int) -> str:
    """A plain text file's text: most of what a drive holds, and its reader only decodes
    a bounded prefix, so it is read from the store straight into a thread of this
    process, without a temporary file or a sandbox (a process start each)."""
    try:
        stream = await blobs.get_store().get(blob_key, end=min(size, MAX_TEXT_FILE))
        data = b"".join([chunk async for chunk in stream])
        return await asyncio.wait_for(asyncio.to_thread(decode_text, data), TIMEOUT)
    except Exception as error:  # a file charset_normalizer chokes on: no text, no crash
        log.info("text of a text file failed: %s", error)
        return ""


async def extract(job: Claimed) -> None:
    if job.org_id is None:
        raise PermanentFailure("drive.extract names its organisation")
    try:
        version_id = uuid.UUID(str(job.payload.get("version_id")))
    except ValueError:
        raise PermanentFailure("drive.extract needs a version id") from None
    async with org_session(job.org_id) as db:
        found = (
            await db.execute(
                select(Version.blob_key, Version.size, Version.content_type, Version.node_id, Node.name)
                .join(Node, Node.id == Version.node_id)
                .where(Version.id == version_id)
            )
        ).first()
        has_text = found is not None and await db.get(ExtractedText, version_id) is not None
    if found is None:
        return  # pruned or purged meanwhile
    blob_key, size, content_type, node_id, name = found
    kind = kind_of(name, content_type)
    if kind is None or size > MAX_INPUT:
        return
    store = blobs.get_store()
    wants_text = kind in TEXT_KINDS and not has_text
    can_preview = previewable(kind)
    wants_preview = can_preview and not await store.exists(preview_key(blob_key))
    if can_preview and not wants_preview:  # a copy's, a restored version's: the blob's preview
        await _mark_preview(job.org_id, node_id, version_id)
    if not (wants_text or wants_preview):
        return
    if kind == "text":
        await _save_text(job.org_id, version_id, node_id, await _decoded(blob_key, size), kind)
        return
    with tempfile.TemporaryDirectory(prefix="hexagone-extract-") as tmp:
        folder = Path(tmp)
        source = folder / ("document" + Path(name).suffix.lower())
        await fetch(blob_key, source)
        if wants_text:
            text = await run_sandboxed("text", kind, source, folder / "text")
            await _save_text(job.org_id, version_id, node_id, (text or b"").decode("utf-8", "replace"), kind)
        if wants_preview:
            image = await render_preview(kind, source, folder)
            if image:
                await store.put(image, key=preview_key(blob_key))
                await _mark_preview(job.org_id, node_id, version_id)


async def _mark_preview(org_id: uuid.UUID, node_id: uuid.UUID, version_id: uuid.UUID) -> None:
    """The file shows its preview in listings, if the version is still its current one."""
    async with org_session(org_id, write=True) as db:
        await db.execute(
            update(Node).where(Node.id == node_id, Node.current_version_id == version_id).values(has_preview=True)
        )
        await db.commit()


JOBS = [JobSpec(EXTRACT_JOB, extract)]
