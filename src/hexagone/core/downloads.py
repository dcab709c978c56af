"""What every download answers besides its bytes: the file's name for every browser
(RFC 6266), the one byte range it was asked for (RFC 9110 §14), and :func:`answer`, the
whole answer for a content kept in the blob store.

Only a single range is served; a header asking for several, or one the server does not
understand, is ignored (the whole content, 200), as the RFC allows. A range that lies
wholly past the end is :class:`Unsatisfiable` (416).
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Awaitable, Callable
from urllib.parse import quote

from starlette.responses import Response, StreamingResponse

SINGLE = re.compile(r"bytes=(\d*)-(\d*)")


class Unsatisfiable(ValueError):
    """The range lies past the end of the content: 416 with ``Content-Range: bytes */size``."""


def byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The bytes ``start`` to ``end`` (excluded) that ``Range: header`` asks of a content
    of ``size`` bytes, or None for the whole content."""
    match = SINGLE.fullmatch((header or "").strip())
    if match is None or match.groups() == ("", ""):
        return None
    first, last = match.groups()
    if not first:  # the last N bytes
        length = int(last)
        if length == 0 or size == 0:  # nothing to give (RFC 9110 § 14.1.3)
            raise Unsatisfiable
        return max(0, size - length), size
    start = int(first)
    if start >= size:
        raise Unsatisfiable
    end = size if not last else min(int(last) + 1, size)
    if end <= start:
        return None  # last before first: not a valid range, so ignored
    return start, end


def attachment(name: str) -> str:
    """``Content-Disposition: attachment`` with the name for every browser: an ASCII
    fallback and RFC 6266's UTF-8 form."""
    fallback = name.encode("ascii", "replace").decode().replace('"', "_").replace("?", "_")
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name)}"


Reader = Callable[[int, int | None], Awaitable[AsyncIterator[bytes]]]


async def answer(
    size: int,
    media_type: str,
    read: Reader,
    range_header: str | None,
    *,
    name: str | None = None,
    etag: str | None = None,
) -> Response:
    """A stored content as the answer to a GET: whole (200) or the range asked for (206),
    416 past its end; ``read(start, end)`` opens its bytes. With ``name``, a download
    (``attachment``); without, shown inline (what this server made itself, a preview).
    Never sniffed by the browser, never cached by a shared cache."""
    try:
        span = byte_range(range_header, size)
    except Unsatisfiable:
        return Response(status_code=416, headers={"content-range": f"bytes */{size}"})
    start, end = span or (0, size)
    headers = {
        "content-length": str(end - start),
        "accept-ranges": "bytes",
        "cache-control": "private, no-cache",
        "x-content-type-options": "nosniff",
    }
    if name is not None:
        headers["content-disposition"] = attachment(name)
    if etag is not None:
        headers["etag"] = f'"{etag}"'
    if span is not None:
        headers["content-range"] = f"bytes {start}-{end - 1}/{size}"
    stream = await read(start, end)
    return StreamingResponse(stream, status_code=206 if span else 200, media_type=media_type, headers=headers)
