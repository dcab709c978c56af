"""Raw WebDAV requests for the drive's protocol tests: a Basic-authenticated httpx
client per user, the URL of a drive, and the bodies clients send."""

from __future__ import annotations

import uuid
from urllib.parse import quote
from xml.etree import ElementTree

import httpx

from tests.factories import TestUser

NS = {"D": "DAV:"}


def dav_client(base_url: str, user: TestUser | None = None, password: str | None = None) -> httpx.AsyncClient:
    auth = (user.email, password or user.password) if user is not None else None
    return httpx.AsyncClient(base_url=base_url, auth=auth, follow_redirects=False, timeout=60)


def files(user: TestUser, path: str = "") -> str:
    """The URL of ``path`` in the user's own drive."""
    return f"/dav/files/{quote(user.email, safe='@')}/{path}"


def space(space_id: uuid.UUID, path: str = "") -> str:
    return f"/dav/spaces/{space_id}/{path}"


def parse(response: httpx.Response) -> ElementTree.Element:
    return ElementTree.fromstring(response.content)


def hrefs(response: httpx.Response) -> list[str]:
    return [(r.findtext("D:href", namespaces=NS) or "") for r in parse(response).findall("D:response", NS)]


def prop_text(response: httpx.Response, name: str) -> str:
    """The text of a property in the first response of a multistatus."""
    found = parse(response).find(f".//D:prop/{name}", NS)
    return "" if found is None else "".join(found.itertext())


def condition(response: httpx.Response) -> str:
    root = parse(response)
    assert root.tag == "{DAV:}error", response.text
    return root[0].tag


def propfind_body(*props: str) -> str:
    inner = "".join(f"<{p}/>" for p in props)
    return f'<?xml version="1.0" encoding="utf-8"?><D:propfind xmlns:D="DAV:"><D:prop>{inner}</D:prop></D:propfind>'


LOCK_BODY = (
    '<?xml version="1.0" encoding="utf-8"?><D:lockinfo xmlns:D="DAV:"><D:lockscope><D:exclusive/></D:lockscope>'
    "<D:locktype><D:write/></D:locktype><D:owner><D:href>tests</D:href></D:owner></D:lockinfo>"
)
