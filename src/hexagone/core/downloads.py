"""What every download answers besides its bytes: the file's name for every browser
(RFC 6266), and the one byte range it was asked for (RFC 9110 §14).

Only a single range is served; a header asking for several, or one the server does not
understand, is ignored (the whole content, 200), as the RFC allows. A range that lies
wholly past the end is :class:`Unsatisfiable` (416).
"""

from __future__ import annotations

import re
from urllib.parse import quote

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
        if length == 0:
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
