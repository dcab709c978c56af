"""Raw DAV requests for the protocol tests: a Basic-authenticated httpx client per user,
and the XML bodies clients send, written out as they appear on the wire."""

from __future__ import annotations

from xml.etree import ElementTree

import httpx

from tests.factories import TestUser

ROOT = "/calendar/dav/"
NS = {"D": "DAV:", "C": "urn:ietf:params:xml:ns:caldav", "CR": "urn:ietf:params:xml:ns:carddav"}
CALDAV_TYPE = "text/calendar; charset=utf-8"
VCARD_TYPE = "text/vcard; charset=utf-8"


def dav_client(base_url: str, user: TestUser | None = None, password: str | None = None) -> httpx.AsyncClient:
    auth = (user.email, password or user.password) if user is not None else None
    return httpx.AsyncClient(base_url=base_url, auth=auth, follow_redirects=False, timeout=30)


def calendar_path(user: TestUser, slug: str = "agenda") -> str:
    return f"{ROOT}calendars/{user.id}/{slug}/"


def book_path(user: TestUser, slug: str = "contacts") -> str:
    return f"{ROOT}addressbooks/{user.id}/{slug}/"


def parse(response: httpx.Response) -> ElementTree.Element:
    return ElementTree.fromstring(response.content)


def hrefs(response: httpx.Response) -> list[str]:
    """The hrefs of the responses of a multistatus."""
    return [(r.findtext("D:href", namespaces=NS) or "") for r in parse(response).findall("D:response", NS)]


def condition(response: httpx.Response) -> str:
    """The precondition element of a DAV:error body, as prefix:name."""
    root = parse(response)
    assert root.tag == "{DAV:}error", response.text
    first = root[0].tag
    for prefix, namespace in NS.items():
        if first.startswith("{" + namespace + "}"):
            return f"{prefix}:{first.split('}')[1]}"
    return first


def propfind_body(*props: str) -> str:
    inner = "".join(f"<{p}/>" for p in props)
    return (
        '<?xml version="1.0" encoding="utf-8"?><D:propfind xmlns:D="DAV:" '
        'xmlns:C="urn:ietf:params:xml:ns:caldav" xmlns:CR="urn:ietf:params:xml:ns:carddav" '
        'xmlns:CS="http://calendarserver.org/ns/" xmlns:A="http://apple.com/ns/ical/">'
        f"<D:prop>{inner}</D:prop></D:propfind>"
    )


def calendar_query(inner_filter: str, props: str = "<D:getetag/><C:calendar-data/>") -> str:
    return (
        '<?xml version="1.0" encoding="utf-8"?><C:calendar-query xmlns:D="DAV:" '
        f'xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop>{props}</D:prop>'
        f'<C:filter><C:comp-filter name="VCALENDAR">{inner_filter}</C:comp-filter></C:filter></C:calendar-query>'
    )


def sync_body(token: str = "", props: str = "<D:getetag/>") -> str:
    return (
        '<?xml version="1.0" encoding="utf-8"?><D:sync-collection xmlns:D="DAV:">'
        f"<D:sync-token>{token}</D:sync-token><D:sync-level>1</D:sync-level><D:prop>{props}</D:prop>"
        "</D:sync-collection>"
    )
