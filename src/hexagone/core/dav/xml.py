"""The XML of WebDAV and the protocols built on it (CalDAV, CardDAV): reading a request
body safely and writing a multistatus. Requests are parsed with ``defusedxml`` (no DTD, no entity: an XML bomb or
an external entity is refused as malformed); answers are written as text with fixed
prefixes, which is several times faster than building a tree for a large REPORT.

Properties and elements are named in Clark notation, ``{namespace}local``. A module
whose protocol has namespaces of its own gives them their fixed prefix with
:func:`declare_prefix` at import.
"""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Iterable
from xml.etree.ElementTree import Element, ParseError
from xml.sax.saxutils import escape, quoteattr

import defusedxml.ElementTree
from defusedxml import DefusedXmlException
from starlette.responses import Response, StreamingResponse

DAV = "DAV:"
HEXAGONE = "https://hexagone.fr/ns/dav"
PREFIXES = {DAV: "D", HEXAGONE: "HX"}
XML_TYPE = 'application/xml; charset="utf-8"'
# Request bodies are small (a PROPFIND, a PROPPATCH, a LOCK): anything larger is refused
# before it is parsed, so that a client cannot make the server build a huge tree.
MAX_BODY = 1 << 20
_declarations = ""


def declare_prefix(namespace: str, prefix: str) -> None:
    """Write ``namespace`` with ``prefix`` in every answer (declared on its root element)."""
    global _declarations
    PREFIXES[namespace] = prefix
    _declarations = ""
    _names.cache_clear()


def _declared() -> str:
    global _declarations
    if not _declarations:
        _declarations = " ".join(f'xmlns:{prefix}="{ns}"' for ns, prefix in PREFIXES.items())
    return _declarations


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
    if len(body) > MAX_BODY:
        raise MalformedXml(f"more than {MAX_BODY} bytes")
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
    return f'<?xml version="1.0" encoding="utf-8"?>\n{head} {_declared()}{"/" if closing else ""}>{rest}'.encode()


STATUS_TEXT = {
    200: "OK",
    400: "Bad Request",
    403: "Forbidden",
    404: "Not Found",
    409: "Conflict",
    412: "Precondition Failed",
    423: "Locked",
    424: "Failed Dependency",
    507: "Insufficient Storage",
}


def status(code: int) -> str:
    return f"<D:status>HTTP/1.1 {code} {STATUS_TEXT.get(code, '')}</D:status>"


def propstat(found: dict[str, str], missing: list[str], missing_status: int = 404) -> str:
    """The propstat blocks of one response: found properties (their inner XML) and absent ones."""
    elements = [element(name, value) for name, value in found.items()]
    return propstat_elements(elements, {missing_status: missing} if missing else {})


def propstat_elements(found: list[str], failed: dict[int, list[str]]) -> str:
    """The propstat blocks of one response: ``found`` the properties' whole elements
    (200), ``failed`` the names of the others by their status."""
    parts = []
    if found:
        parts.append(f"<D:propstat><D:prop>{''.join(found)}</D:prop>{status(200)}</D:propstat>")
    for code, names in failed.items():
        if names:
            props = "".join(element(name) for name in names)
            parts.append(f"<D:propstat><D:prop>{props}</D:prop>{status(code)}</D:propstat>")
    return "".join(parts)


def response(path: str, body: str) -> str:
    return f"<D:response>{href(path)}{body}</D:response>"


def multistatus(parts: list[str], extra: str = "") -> Response:
    """A 207 Multi-Status answer of ``parts`` (each a DAV:response)."""
    body = document(f"<D:multistatus>{''.join(parts)}{extra}</D:multistatus>")
    return Response(body, status_code=207, media_type=XML_TYPE)


STREAM_BATCH = 500  # responses written between two sends of a streamed multistatus


def multistatus_stream(parts: Iterable[str]) -> StreamingResponse:
    """A 207 Multi-Status sent as it is written, ``parts`` (each a DAV:response) made
    only as they are sent: a folder of 10,000 entries answers 7 MiB, which is then
    neither held whole (as text and again as bytes) nor waited for before the first byte
    leaves. Between two batches the event loop serves other requests."""

    async def body() -> AsyncIterator[bytes]:
        yield document("<D:multistatus>")
        batch: list[str] = []
        for part in parts:
            batch.append(part)
            if len(batch) == STREAM_BATCH:
                yield "".join(batch).encode()
                batch.clear()
        yield ("".join(batch) + "</D:multistatus>").encode()

    return StreamingResponse(body(), status_code=207, media_type=XML_TYPE)
