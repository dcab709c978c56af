"""A drive file's bytes as an HTTP answer, for the API and the pages alike: whole or the
one byte range asked for, named, streamed from the blob store (:func:`hexagone.core.downloads.answer`)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

from starlette.responses import Response

from hexagone.core import downloads
from hexagone.core.auth import Principal
from hexagone.core.db import org_session
from hexagone.drive import service


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
        node = await service.node(db, principal, node_id)
        size = node.size
        if version_id is not None:
            size = next((v.size for v in await service.versions(db, principal, node_id) if v.id == version_id), 0)

        async def read(start: int, end: int | None) -> AsyncIterator[bytes]:
            _found, stream = await service.open(db, principal, node_id, start=start, end=end, version_id=version_id)
            return stream

        response = await downloads.answer(
            size,
            node.content_type or "application/octet-stream",
            read,
            range_header,
            name=node.name,
            etag=node.etag if version_id is None else None,
        )
        if response.status_code != 416:
            await service.mark_recent(db, principal, node_id)
            await db.commit()
    return response
