"""A file's bytes as an HTTP answer, for the API and the pages alike: whole, or the one
byte range a ``Range`` header asks for (``bytes=a-b``, ``bytes=a-``, ``bytes=-n``),
streamed from the blob store, with the name in ``Content-Disposition`` for every
browser. Several ranges in one header are answered with the whole file, which RFC 9110
allows; a range outside the file is 416 with the file's size."""

from __future__ import annotations

import re
import uuid
from urllib.parse import quote

from starlette.responses import Response, StreamingResponse

from hexagone.core.auth import Principal
from hexagone.core.db import org_session
from hexagone.drive import service

_RANGE = re.compile(r"bytes=(\d*)-(\d*)")


def disposition(name: str) -> str:
    """``attachment`` with the name: an ASCII fallback and RFC 6266's UTF-8 form."""
    fallback = name.encode("ascii", "replace").decode().replace('"', "_").replace("?", "_")
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name)}"


def byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The ``(start, end)`` (end excluded) a Range header asks for; None for the whole
    file (no header, several ranges, a unit other than bytes); ValueError when it is
    outside the file."""
    if not header:
        return None
    match = _RANGE.fullmatch(header.strip())
    if match is None:
        return None
    first, last = match.groups()
    if not first and not last:
        return None
    if not first:  # the last n bytes
        count = int(last)
        if count == 0 or size == 0:
            raise ValueError("empty suffix")
        return max(0, size - count), size
    start = int(first)
    end = size if not last else min(int(last) + 1, size)
    if start >= size or end <= start:
        raise ValueError("outside the file")
    return start, end


async def send_file(
    principal: Principal,
    node_id: uuid.UUID,
    range_header: str | None = None,
    *,
    version_id: uuid.UUID | None = None,
) -> Response:
    """The file's current content (or ``version_id``'s), whole or the range asked for;
    the file goes to the principal's recent files."""
    async with org_session(principal.org_id, write=True) as db:
        if version_id is None:
            size = (await service.node(db, principal, node_id)).size
        else:
            size = next((v.size for v in await service.versions(db, principal, node_id) if v.id == version_id), 0)
        try:
            wanted = byte_range(range_header, size)
        except ValueError:
            return Response(status_code=416, headers={"content-range": f"bytes */{size}"})
        start, end = wanted or (0, None)
        found, stream = await service.open(db, principal, node_id, start=start, end=end, version_id=version_id)
        await service.mark_recent(db, principal, node_id)
        await db.commit()
    headers = {
        "content-disposition": disposition(found.name),
        "accept-ranges": "bytes",
        "cache-control": "private, no-cache",
        "x-content-type-options": "nosniff",
    }
    if version_id is None:
        headers["etag"] = f'"{found.etag}"'
    if wanted is None:
        headers["content-length"] = str(size)
        status = 200
    else:
        headers["content-length"] = str(wanted[1] - wanted[0])
        headers["content-range"] = f"bytes {wanted[0]}-{wanted[1] - 1}/{size}"
        status = 206
    media = found.content_type or "application/octet-stream"
    return StreamingResponse(stream, status_code=status, media_type=media, headers=headers)
