"""The request headers that steer a WebDAV method (RFC 4918 10): Depth, Destination,
Overwrite, Timeout, Lock-Token and the ``If`` header, parsed strictly: a value that is
not in the grammar is a :class:`~hexagone.core.dav.errors.DavError` 400 with a message,
never taken for a default."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from starlette.requests import Request

from hexagone.core.dav.errors import DavError
from hexagone.core.dav.xml import DAV, tag
from hexagone.core.i18n import _

INFINITY = "infinity"


def depth(request: Request, *, default: str, allowed: tuple[str, ...]) -> str:
    """The Depth header ("0", "1" or "infinity"), ``default`` without one; a value
    outside ``allowed`` for this method is 400."""
    value = request.headers.get("depth", "").strip().lower() or default
    if value not in allowed:
        raise DavError(400, _("Depth {value} is not allowed here.").format(value=value))
    return value


def overwrite(request: Request) -> bool:
    """The Overwrite header: T (the default) or F."""
    value = request.headers.get("overwrite", "T").strip().upper()
    if value not in ("T", "F"):
        raise DavError(400, _("Overwrite is T or F."))
    return value == "T"


def destination(request: Request) -> str:
    """The Destination header's path, still percent-encoded (the caller splits it into
    segments before decoding them), which must name this server: a URI of another host
    is 502 (RFC 4918 9.8.5), none at all 400."""
    value = request.headers.get("destination", "").strip()
    if not value:
        raise DavError(400, _("This method needs a Destination header."))
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        host = request.headers.get("host", "")
        if parts.scheme not in ("http", "https") or parts.netloc.lower() != host.lower():
            raise DavError(502, _("The destination is on another server."))
    if not parts.path.startswith("/"):
        raise DavError(400, _("The destination is not a path of this server."))
    return parts.path


MAX_TIMEOUT = 7 * 24 * 3600


def timeout(request: Request, default: int = 3600) -> int:
    """The seconds a lock should last: the first value of the Timeout header we
    understand (``Second-n`` or ``Infinite``), at most a week."""
    for value in request.headers.get("timeout", "").split(","):
        value = value.strip()
        if value.lower() == "infinite":
            return MAX_TIMEOUT
        if value[:7].lower() == "second-" and value[7:].isdigit():
            return max(1, min(int(value[7:]), MAX_TIMEOUT))
    return default


def lock_token(request: Request) -> str:
    """The Lock-Token header's token (UNLOCK): ``<urn:uuid:...>`` without its brackets."""
    value = request.headers.get("lock-token", "").strip()
    if not (value.startswith("<") and value.endswith(">")) or len(value) < 3:
        raise DavError(400, _("UNLOCK needs a Lock-Token header."))
    return value[1:-1]


@dataclass(frozen=True)
class Condition:
    """One condition of an ``If`` list: a state token or an entity tag, perhaps negated."""

    negated: bool
    token: str = ""
    etag: str = ""


@dataclass(frozen=True)
class Conditions:
    """One list of an ``If`` header: all its conditions must hold for ``resource`` (the
    path of its tag, percent-encoded as sent; None for the request's own)."""

    resource: str | None
    conditions: tuple[Condition, ...]


@dataclass(frozen=True)
class State:
    """What an ``If`` condition is tested against: a resource's entity tag ("" when it
    does not exist) and the tokens of the locks that cover it."""

    etag: str
    tokens: frozenset[str]


_TOKEN = re.compile(r"\s*(?:(<[^>]*>)|(\()|(\))|(\[[^\]]*\])|(not)\b)", re.IGNORECASE)
MAX_IF = 8192


def _bare(etag: str) -> str:
    return etag.strip().removeprefix("W/").strip('"')


def parse_if(value: str) -> list[Conditions]:
    """The lists of an ``If`` header (RFC 4918 10.4): tagged or not, each condition a
    Coded-URL or an entity tag, perhaps after ``Not``. Malformed: 400."""
    bad = DavError(400, _("The If header is malformed."))
    if len(value) > MAX_IF:
        raise bad
    lists: list[Conditions] = []
    resource: str | None = None
    current: list[Condition] | None = None
    negated = False
    position = 0
    value = value.strip()
    while position < len(value):
        found = _TOKEN.match(value, position)
        if found is None:
            raise bad
        position = found.end()
        coded, opening, closing, etag, not_ = found.groups()
        if current is None:
            if coded is not None:
                resource = urlsplit(coded[1:-1]).path or "/"  # still percent-encoded
            elif opening is not None:
                current = []
            else:
                raise bad
        elif not_ is not None:
            if negated:
                raise bad
            negated = True
        elif coded is not None or etag is not None:
            token = coded[1:-1].strip() if coded is not None else ""
            current.append(Condition(negated, token=token, etag=_bare(etag[1:-1]) if etag is not None else ""))
            negated = False
        elif closing is not None:
            if not current or negated:
                raise bad
            lists.append(Conditions(resource, tuple(current)))
            current = None
        else:
            raise bad
    if current is not None or not lists:
        raise bad
    return lists


def submitted_tokens(lists: list[Conditions]) -> frozenset[str]:
    """The lock tokens an ``If`` header submits (RFC 4918 10.4.1): those it names."""
    return frozenset(c.token for one in lists for c in one.conditions if c.token and not c.negated)


def _holds(condition: Condition, state: State) -> bool:
    if condition.token:
        matched = condition.token in state.tokens
    else:
        matched = bool(state.etag) and condition.etag == state.etag
    return matched != condition.negated


async def evaluate(lists: list[Conditions], request_path: str, state_of: Callable[[str], Awaitable[State]]) -> bool:
    """Whether the ``If`` header holds: one of its lists does, each condition tested
    against the state of the list's resource (the request's when untagged)."""
    states: dict[str, State] = {}
    for one in lists:
        path = one.resource or request_path
        if path not in states:
            states[path] = await state_of(path)
        if all(_holds(c, states[path]) for c in one.conditions):
            return True
    return False


def propfind_depth(request: Request) -> str:
    """A PROPFIND's depth, "0" or "1". Depth infinity is refused as RFC 4918 9.1 allows
    (403 DAV:propfind-finite-depth); a request without Depth is answered as depth 1, as
    most servers do, since some clients omit it."""
    value = request.headers.get("depth", "").strip().lower() or "1"
    if value == INFINITY:
        raise DavError(403, _("PROPFIND with Depth: infinity is not supported."), tag(DAV, "propfind-finite-depth"))
    if value not in ("0", "1"):
        raise DavError(400, _("Depth {value} is not allowed here.").format(value=value))
    return value
