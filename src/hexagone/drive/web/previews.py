"""``/drive/previews/<node id>``: a file's preview (a PNG of at most 512 pixels a side),
for whoever may read the file; 404 while there is none.

Its ETag is the version's: a browser asks again with ``If-None-Match`` and gets 304
until the file changes. Asked as ``?v=<version id>`` (the version the page showing it
knows), the answer never changes and is kept a year.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from hexagone.core import pages
from hexagone.core.db import org_session
from hexagone.core.forms import parse_uuid
from hexagone.core.web import login_required
from hexagone.drive import service

FOREVER = "private, max-age=31536000, immutable"
REVALIDATE = "private, no-cache"


@login_required
async def preview(request: Request) -> Response:
    principal = pages.me(request)
    node_id = parse_uuid(request.path_params["node_id"])
    async with org_session(principal.org_id) as db:
        found, image = await service.preview(db, principal, node_id)
    etag = f'"{found.version_id}"'
    pinned = request.query_params.get("v") == str(found.version_id)
    headers = {"etag": etag, "cache-control": FOREVER if pinned else REVALIDATE}
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    return Response(image, media_type=found.content_type, headers=headers)


# Inside the module: the app mounts them under /drive/.
ROUTES = [Route("/previews/{node_id}", preview)]
