"""The DAV endpoint: every request under ``/calendar/dav/`` comes here, is given its
caller (HTTP Basic or the browser session, resolved by the core's middleware), its
target and a database session, and goes to the handler of its method.

Who may come: members of an organisation that subscribes to the calendar module (the
subscription gate answers 404 to the others). Guests get 404 too: they have no calendar
of their own and the protocol sign-in refuses them, so their session does not open the
DAV tree either. An OAuth access token opens ``/api/`` only (401). A browser session
works, with the CSRF token on every method but GET, HEAD and OPTIONS, as everywhere.
A cross-site page can make a browser send only GET, HEAD and POST without a preflight
we never answer: GET and HEAD change nothing and POST is refused (405), so remembered
Basic credentials cannot be used to forge a change. (The scheduling outbox takes a POST
with a ``text/calendar`` body only, which no form can send, and it changes nothing.)
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from hexagone.calendar.dav import collection, propfind, reports, resources, scheduling, targets
from hexagone.calendar.dav.auth import basic_principal
from hexagone.calendar.dav.context import Context
from hexagone.calendar.service import collections, directory
from hexagone.core.auth import Principal
from hexagone.core.dav.errors import DavError
from hexagone.core.dav.xml import MalformedXml
from hexagone.core.db import org_session
from hexagone.core.exceptions import ServiceError
from hexagone.core.i18n import _
from hexagone.core.web import add_self_authenticated_paths, allow_basic_auth, principal_of

DAV_HEADER = "1, 3, calendar-access, calendar-auto-schedule, addressbook, extended-mkcol"
METHODS = ["OPTIONS", "PROPFIND", "PROPPATCH", "MKCALENDAR", "MKCOL", "GET", "HEAD", "PUT", "DELETE", "REPORT"]
WRITES = frozenset({"PROPPATCH", "MKCALENDAR", "MKCOL", "PUT", "DELETE"})
CREATES = frozenset({"MKCALENDAR", "MKCOL", "PUT"})

Handler = Callable[[Context], Awaitable[Response]]


async def _head(ctx: Context) -> Response:
    return await resources.get(ctx, head=True)


HANDLERS: dict[str, Handler] = {
    "PROPFIND": propfind.propfind,
    "PROPPATCH": collection.proppatch,
    "MKCALENDAR": collection.mkcalendar,
    "MKCOL": collection.mkcol,
    "GET": resources.get,
    "HEAD": _head,
    "PUT": resources.put,
    "DELETE": resources.delete,
    "REPORT": reports.report,
}

WELL_KNOWN = ("/.well-known/caldav", "/.well-known/carddav")
allow_basic_auth(targets.ROOT[:-1], basic_principal)
add_self_authenticated_paths(*WELL_KNOWN)  # a redirect for anyone: no session, no CSRF token
allow_basic_auth("/", basic_principal, exact=True, methods=frozenset({"PROPFIND"}))

# Users (with the spaces they were in) whose first calendar and address book, spaces'
# calendars and organisation's directory this process has already made sure of.
_ensured: set[tuple[uuid.UUID, frozenset[uuid.UUID]]] = set()
ADDRESS_BOOKS = f"{targets.ROOT}addressbooks/"


async def _ensure_defaults(principal: Principal) -> None:
    key = (principal.user_id, principal.space_ids)
    if key in _ensured or principal.is_guest:
        return
    async with org_session(principal.org_id, write=True) as db:
        await collections.ensure_defaults(db, principal)
        await directory.collection(db, principal.org_id)
        await db.commit()
    if len(_ensured) > 100_000:
        _ensured.clear()
    _ensured.add(key)


async def _refresh_directory(principal: Principal) -> None:
    """Bring the directory's stored cards up to date before a CardDAV client reads them
    (generated from identity on read): a read-only check, and a write transaction only
    when something changed."""
    async with org_session(principal.org_id) as db:
        if await directory.up_to_date(db):
            return
    async with org_session(principal.org_id, write=True) as db:
        await directory.refresh(db, principal.org_id)
        await db.commit()


def _options() -> Response:
    return Response(status_code=200, headers={"dav": DAV_HEADER, "allow": ", ".join(METHODS)})


async def endpoint(request: Request) -> Response:
    principal = principal_of(request)
    if principal is None or principal.is_guest:
        return Response(_("Not found.") + "\n", status_code=404, media_type="text/plain; charset=utf-8")
    method = request.method
    if method == "OPTIONS":
        return _options()
    handler = HANDLERS.get(method)
    mailbox = scheduling.owns(request.url.path)  # RFC 6638 inbox and outbox: their own handler
    if handler is None and not (mailbox and method == "POST"):
        return Response(status_code=405, headers={"allow": ", ".join(METHODS)})
    await _ensure_defaults(principal)
    if request.url.path.startswith(ADDRESS_BOOKS):
        await _refresh_directory(principal)
    body = await request.body()
    try:
        async with org_session(principal.org_id, write=method in WRITES) as db:
            if mailbox:
                target = targets.Target("mailbox", request.url.path)
                return _with_dav(await scheduling.handle(Context(request, body, principal, db, target)))
            try:
                target = await targets.resolve(db, principal, request.url.path)
            except targets.NotThere:
                raise DavError(404, _("Not found.")) from None
            if target.kind == "missing" and method not in CREATES:
                raise DavError(404, _("Not found."))
            assert handler is not None  # only the outbox takes POST
            response = await handler(Context(request, body, principal, db, target))
    except DavError as exc:
        response = exc.response()
    except MalformedXml as exc:
        response = DavError(400, _("The request body is not valid XML: {reason}").format(reason=exc)).response()
    except ServiceError as exc:
        response = DavError(exc.status, str(exc)).response()
    return _with_dav(response)


def _with_dav(response: Response) -> Response:
    response.headers["dav"] = DAV_HEADER
    return response


async def well_known(_request: Request) -> Response:
    """RFC 6764 5: the context path of the CalDAV and CardDAV service."""
    return RedirectResponse(targets.ROOT, status_code=301)


ROUTES = [Route("/dav{path:path}", endpoint, methods=[*METHODS, "POST"])]
PUBLIC_ROUTES = [
    *(Route(path, well_known, methods=["GET", "HEAD", "PROPFIND", "OPTIONS"]) for path in WELL_KNOWN),
    # A client given only the server's address asks its root for the current principal.
    Route("/", well_known, methods=["PROPFIND"]),
]
