"""A small CalDAV/CardDAV client for the benchmarks: standard discovery, collection
creation, the request bodies (kept here as constants so that they can be read and checked
against a server) and the parsing of multistatus answers.

One ``httpx.Client`` per server: HTTP/1.1, keep-alive (a server that answers HTTP/1.0 and
closes, as Radicale's built-in one does, costs a new loopback connection per request).
"""

from __future__ import annotations

import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urljoin, urlsplit

import httpx

DAV, CALDAV, CARDDAV = "DAV:", "urn:ietf:params:xml:ns:caldav", "urn:ietf:params:xml:ns:carddav"
XML = {"Content-Type": "application/xml; charset=utf-8"}
ICAL = "text/calendar; charset=utf-8"
VCARD = "text/vcard; charset=utf-8"
CALENDAR_NAME = "hexagone-bench-calendar/"  # the collections the benchmark creates in the home sets
ADDRESSBOOK_NAME = "hexagone-bench-contacts/"

# --------------------------------------------------------------------------- request bodies

PROPFIND_PRINCIPAL = """<?xml version="1.0" encoding="utf-8"?>
<D:propfind xmlns:D="DAV:">
  <D:prop><D:current-user-principal/></D:prop>
</D:propfind>"""

PROPFIND_HOMES = """<?xml version="1.0" encoding="utf-8"?>
<D:propfind xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav" xmlns:CR="urn:ietf:params:xml:ns:carddav">
  <D:prop><C:calendar-home-set/><CR:addressbook-home-set/></D:prop>
</D:propfind>"""

PROPFIND_COLLECTIONS = """<?xml version="1.0" encoding="utf-8"?>
<D:propfind xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">
  <D:prop><D:resourcetype/><D:displayname/><C:supported-calendar-component-set/></D:prop>
</D:propfind>"""

MKCALENDAR = """<?xml version="1.0" encoding="utf-8"?>
<C:mkcalendar xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">
  <D:set>
    <D:prop>
      <D:displayname>Hexagone benchmark</D:displayname>
      <C:supported-calendar-component-set><C:comp name="VEVENT"/></C:supported-calendar-component-set>
    </D:prop>
  </D:set>
</C:mkcalendar>"""

MKCOL_ADDRESSBOOK = """<?xml version="1.0" encoding="utf-8"?>
<D:mkcol xmlns:D="DAV:" xmlns:CR="urn:ietf:params:xml:ns:carddav">
  <D:set>
    <D:prop>
      <D:resourcetype><D:collection/><CR:addressbook/></D:resourcetype>
      <D:displayname>Hexagone benchmark</D:displayname>
    </D:prop>
  </D:set>
</D:mkcol>"""

CALENDAR_QUERY = """<?xml version="1.0" encoding="utf-8"?>
<C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">
  <D:prop>
    <D:getetag/>
    <C:calendar-data/>
  </D:prop>
  <C:filter>
    <C:comp-filter name="VCALENDAR">
      <C:comp-filter name="VEVENT">
        <C:time-range start="{start}" end="{end}"/>
      </C:comp-filter>
    </C:comp-filter>
  </C:filter>
</C:calendar-query>"""

CALENDAR_QUERY_EXPAND = """<?xml version="1.0" encoding="utf-8"?>
<C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">
  <D:prop>
    <D:getetag/>
    <C:calendar-data>
      <C:expand start="{start}" end="{end}"/>
    </C:calendar-data>
  </D:prop>
  <C:filter>
    <C:comp-filter name="VCALENDAR">
      <C:comp-filter name="VEVENT">
        <C:time-range start="{start}" end="{end}"/>
      </C:comp-filter>
    </C:comp-filter>
  </C:filter>
</C:calendar-query>"""

SYNC_COLLECTION = """<?xml version="1.0" encoding="utf-8"?>
<D:sync-collection xmlns:D="DAV:">
  <D:sync-token>{token}</D:sync-token>
  <D:sync-level>1</D:sync-level>
  <D:prop>
    <D:getetag/>
  </D:prop>
</D:sync-collection>"""

CALENDAR_MULTIGET = """<?xml version="1.0" encoding="utf-8"?>
<C:calendar-multiget xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">
  <D:prop>
    <D:getetag/>
    <C:calendar-data/>
  </D:prop>
{hrefs}
</C:calendar-multiget>"""


def utc(moment: datetime) -> str:
    return moment.strftime("%Y%m%dT%H%M%SZ")


def query_body(start: datetime, end: datetime, expand: bool) -> str:
    return (CALENDAR_QUERY_EXPAND if expand else CALENDAR_QUERY).format(start=utc(start), end=utc(end))


def sync_body(token: str) -> str:
    return SYNC_COLLECTION.format(token=escape(token))


def multiget_body(hrefs: list[str]) -> str:
    return CALENDAR_MULTIGET.format(hrefs="\n".join(f"  <D:href>{escape(h)}</D:href>" for h in hrefs))


def escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# --------------------------------------------------------------------------- answers


class DavError(RuntimeError):
    pass


@dataclass
class Multistatus:
    responses: int = 0  # D:response elements
    not_found: int = 0  # of which with a 404 status (members removed, in a sync report)
    components: int = 0  # BEGIN:VEVENT / BEGIN:VCARD in the calendar or address data
    sync_token: str = ""
    hrefs: list[str] = field(default_factory=list)


def parse_multistatus(body: bytes, component: str = "VEVENT") -> Multistatus:
    root = ET.fromstring(body)
    out = Multistatus()
    marker = f"BEGIN:{component}"
    for response in root.iter(f"{{{DAV}}}response"):
        out.responses += 1
        href = response.findtext(f"{{{DAV}}}href")
        if href:
            out.hrefs.append(href)
        status = response.findtext(f"{{{DAV}}}status") or ""
        if " 404 " in status:
            out.not_found += 1
        for tag in (f"{{{CALDAV}}}calendar-data", f"{{{CARDDAV}}}address-data"):
            for data in response.iter(tag):
                out.components += (data.text or "").count(marker)
    out.sync_token = root.findtext(f"{{{DAV}}}sync-token") or ""
    return out


def _prop_hrefs(body: bytes, tag: str) -> list[str]:
    root = ET.fromstring(body)
    return [h.text.strip() for prop in root.iter(tag) for h in prop.iter(f"{{{DAV}}}href") if h.text]


# --------------------------------------------------------------------------- client


@dataclass
class Collections:
    principal: str
    calendar: str  # absolute paths, ending with "/"
    addressbook: str
    notes: list[str] = field(default_factory=list)


class Client:
    def __init__(self, base: str, user: str, password: str, timeout: float = 600):
        self.base = base.rstrip("/")
        self.http = httpx.Client(base_url=self.base, auth=(user, password), timeout=timeout, follow_redirects=False)

    def close(self) -> None:
        self.http.close()

    def request(
        self, method: str, url: str, body: str | bytes | None = None, headers: dict[str, str] | None = None
    ) -> tuple[httpx.Response, float]:
        """The answer, read to its end, and the seconds from sending to the last byte."""
        content = body.encode() if isinstance(body, str) else body
        t0 = time.perf_counter()
        response = self.http.request(method, url, content=content, headers=headers)
        return response, time.perf_counter() - t0

    def report(self, url: str, body: str, depth: str = "1") -> tuple[httpx.Response, float]:
        response, seconds = self.request("REPORT", url, body, XML | {"Depth": depth})
        if response.status_code != 207:
            raise DavError(f"REPORT {url} answered {response.status_code}: {response.text[:300]}")
        return response, seconds

    def propfind(self, url: str, body: str, depth: str = "0") -> httpx.Response:
        response, _ = self.request("PROPFIND", url, body, XML | {"Depth": depth})
        return response

    # ----------------------------------------------------------------------- discovery

    def _context_path(self, service: str) -> str:
        """RFC 6764 section 5: /.well-known/caldav (or carddav) redirects to the context path."""
        url = f"/.well-known/{service}"
        for _ in range(5):
            response = self.propfind(url, PROPFIND_PRINCIPAL)
            if response.status_code in (301, 302, 303, 307, 308):
                url = urlsplit(urljoin(self.base + url, response.headers["Location"])).path or "/"
                continue
            if response.status_code == 207:
                return url
            raise DavError(
                f"PROPFIND {url} (discovery, RFC 6764) answered {response.status_code}"
                + (f": {response.text[:200]!r}" if response.text else "")
            )
        raise DavError(f"/.well-known/{service}: too many redirects")

    def _principal(self, context: str) -> str:
        response = self.propfind(context, PROPFIND_PRINCIPAL)
        hrefs = _prop_hrefs(response.content, f"{{{DAV}}}current-user-principal") if response.status_code == 207 else []
        if not hrefs:
            raise DavError(f"PROPFIND {context}: no current-user-principal ({response.status_code})")
        return urlsplit(hrefs[0]).path

    def discover(self) -> Collections:
        """current-user-principal through /.well-known, then its calendar-home-set and
        addressbook-home-set; creates the benchmark's calendar and address book there
        (deleting those of an earlier run)."""
        principal = self._principal(self._context_path("caldav"))
        card_principal = self._principal(self._context_path("carddav"))
        notes = [] if card_principal == principal else [f"CardDAV principal {card_principal} (CalDAV: {principal})"]
        response = self.propfind(principal, PROPFIND_HOMES)
        if response.status_code != 207:
            raise DavError(f"PROPFIND {principal} (home sets) answered {response.status_code}")
        calendar_homes = _prop_hrefs(response.content, f"{{{CALDAV}}}calendar-home-set")
        if card_principal != principal:
            response = self.propfind(card_principal, PROPFIND_HOMES)
        book_homes = _prop_hrefs(response.content, f"{{{CARDDAV}}}addressbook-home-set")
        if not calendar_homes:
            raise DavError(f"PROPFIND {principal}: no calendar-home-set")
        if not book_homes:
            raise DavError(f"PROPFIND {card_principal}: no addressbook-home-set")
        calendar = self._create(urlsplit(calendar_homes[0]).path, CALENDAR_NAME, "MKCALENDAR", MKCALENDAR, notes)
        book = self._create(urlsplit(book_homes[0]).path, ADDRESSBOOK_NAME, "MKCOL", MKCOL_ADDRESSBOOK, notes)
        return Collections(principal, calendar, book, notes)

    def _create(self, home: str, name: str, method: str, body: str, notes: list[str]) -> str:
        home = home if home.endswith("/") else home + "/"
        url = home + name
        self.request("DELETE", url)  # an earlier run's: 404 when there is none
        response, _ = self.request(method, url, body, XML)
        if response.status_code == 201:
            return url
        raise DavError(f"{method} {url} answered {response.status_code}: {response.text[:300]}")

    # ----------------------------------------------------------------------- objects

    def put(self, url: str, data: bytes, content_type: str, create: bool = True) -> tuple[httpx.Response, float]:
        headers = {"Content-Type": content_type}
        if create:
            headers["If-None-Match"] = "*"
        return self.request("PUT", url, data, headers)
