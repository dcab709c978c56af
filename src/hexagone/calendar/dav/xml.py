"""The XML of WebDAV, CalDAV and CardDAV: reading a request body safely and writing a
multistatus. Requests are parsed with ``defusedxml`` (no DTD, no entity: an XML bomb or
an external entity is refused as malformed); answers are written as text with fixed
prefixes, which is several times faster than building a tree for a large REPORT.

Properties and elements are named in Clark notation, ``{namespace}local``.
"""

from __future__ import annotations

import functools
from xml.etree.ElementTree import Element, ParseError
from xml.sax.saxutils import escape, quoteattr

import defusedxml.ElementTree
from defusedxml import DefusedXmlException

DAV = "DAV:"
CALDAV = "urn:ietf:params:xml:ns:caldav"
CARDDAV = "urn:ietf:params:xml:ns:carddav"
CS = "http://calendarserver.org/ns/"
APPLE = "http://apple.com/ns/ical/"
HEXAGONE = "https://hexagone.fr/ns/dav"
PREFIXES = {DAV: "D", CALDAV: "C", CARDDAV: "CR", CS: "CS", APPLE: "A", HEXAGONE: "HX"}
DECLARATIONS = " ".join(f'xmlns:{prefix}="{ns}"' for ns, prefix in PREFIXES.items())
XML_TYPE = 'application/xml; charset="utf-8"'


class MalformedXml(ValueError):
    """The body is not XML we accept (syntax, a DTD or an entity, or the wrong root)."""


def tag(namespace: str, local: str) -> str:
    return f"{{{namespace}}}{local}"


def split(clark: str) -> tuple[str, str]:
    if clark.startswith("{"):
        namespace, _, local = clark[1:].partition("}")
        return namespace, local
    return "", clark


def parse(body: bytes, root: str | None = None) -> Element | None:
    """The document's root element (None for an empty body), checked to be ``root``."""
    if not body.strip():
        return None
    try:
        element = defusedxml.ElementTree.fromstring(body, forbid_dtd=True)
    except (ParseError, DefusedXmlException, ValueError) as exc:
        raise MalformedXml(str(exc)) from exc
    if root is not None and element.tag != root:
        raise MalformedXml(f"expected {root}, got {element.tag}")
    return element


@functools.lru_cache(maxsize=1024)
def _names(clark: str) -> tuple[str, str]:
    """The element's name as written, and the namespace declaration it needs ("" for ours)."""
    namespace, local = split(clark)
    prefix = PREFIXES.get(namespace)
    if prefix is not None:
        return f"{prefix}:{local}", ""
    return local, f" xmlns={quoteattr(namespace)}" if namespace else ""


def element(clark: str, inner: str = "", attributes: str = "") -> str:
    """``clark`` written with our prefix for its namespace (declared inline otherwise)."""
    name, declare = _names(clark)
    if inner:
        return f"<{name}{declare}{attributes}>{inner}</{name}>"
    return f"<{name}{declare}{attributes}/>"


def text(value: str) -> str:
    return escape(value)


def href(path: str) -> str:
    return f"<D:href>{escape(path)}</D:href>"


def document(inner: str) -> bytes:
    """A whole answer: the root element ``inner`` begins with gets the declarations."""
    head, _, rest = inner.partition(">")
    closing = head.endswith("/")
    head = head[:-1] if closing else head
    return f'<?xml version="1.0" encoding="utf-8"?>\n{head} {DECLARATIONS}{"/" if closing else ""}>{rest}'.encode()


STATUS_TEXT = {
    200: "OK",
    403: "Forbidden",
    404: "Not Found",
    409: "Conflict",
    424: "Failed Dependency",
    507: "Insufficient Storage",
}


def status(code: int) -> str:
    return f"<D:status>HTTP/1.1 {code} {STATUS_TEXT.get(code, '')}</D:status>"


def propstat(found: dict[str, str], missing: list[str], missing_status: int = 404) -> str:
    """The propstat blocks of one response: found properties (their inner XML) and absent ones."""
    parts = []
    if found:
        props = "".join(element(name, value) for name, value in found.items())
        parts.append(f"<D:propstat><D:prop>{props}</D:prop>{status(200)}</D:propstat>")
    if missing:
        props = "".join(element(name) for name in missing)
        parts.append(f"<D:propstat><D:prop>{props}</D:prop>{status(missing_status)}</D:propstat>")
    return "".join(parts)


def response(path: str, body: str) -> str:
    return f"<D:response>{href(path)}{body}</D:response>"
