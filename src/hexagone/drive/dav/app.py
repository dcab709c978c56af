"""The drive's WebDAV endpoint: every request under ``/dav/files/`` and ``/dav/spaces/``
comes here, is given its caller, the location its path names and the ``If`` header's
lists, and goes to the handler of its method. Each handler opens the database sessions
it needs: a PUT holds none while its body streams.

Who may come (the subscription gate answers 404 to organisations without the drive):
HTTP Basic with the account password or an app password (an account with MFA needs an
app password), exactly as calendar's DAV (:class:`hexagone.core.dav.auth.BasicSignIn`),
or the browser session (its CSRF token on every method but GET, HEAD and OPTIONS, as
everywhere). Without either: 401 asking for Basic credentials. An OAuth access token
opens ``/api/`` only (401). Guests sign in with their session only (the protocol sign-in
refuses them, as calendar's), and reach only their spaces' drives.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from hexagone.core.config import get_settings
from hexagone.core.dav import headers
from hexagone.core.dav.auth import BasicSignIn
from hexagone.core.dav.errors import DavError
from hexagone.core.dav.xml import DAV, MalformedXml, tag
from hexagone.core.exceptions import Locked, ServiceError
from hexagone.core.i18n import _
from hexagone.core.web import allow_basic_auth, allow_streamed_bodies, principal_of
from hexagone.drive.dav import locking, reading, targets, writing
from hexagone.drive.dav.context import Context, raw_path
from hexagone.identity.service import load_principal, verify_module_credentials
from hexagone.mail.service import use_app_password

DAV_HEADER = "1, 2"
METHODS = [
    "OPTIONS",
    "PROPFIND",
    "PROPPATCH",
    "MKCOL",
    "GET",
    "HEAD",
    "PUT",
    "DELETE",
    "COPY",
    "MOVE",
    "LOCK",
    "UNLOCK",
]
PREFIXES = (targets.FILES.rstrip("/"), targets.SPACES.rstrip("/"))

Handler = Callable[[Context], Awaitable[Response]]


async def _head(ctx: Context) -> Response:
    return await reading.get(ctx, head=True)


async def _options(_ctx: Context) -> Response:
    return Response(status_code=200, headers={"allow": ", ".join(METHODS), "ms-author-via": "DAV"})


HANDLERS: dict[str, Handler] = {
    "OPTIONS": _options,
    "PROPFIND": reading.propfind,
    "PROPPATCH": writing.proppatch,
    "MKCOL": writing.mkcol,
    "GET": reading.get,
    "HEAD": _head,
    "PUT": writing.put,
    "DELETE": writing.delete,
    "COPY": writing.copy,
    "MOVE": writing.move,
    "LOCK": locking.lock,
    "UNLOCK": locking.unlock,
}

sign_in = BasicSignIn(
    module="drive",
    channel="webdav",
    verify=verify_module_credentials,
    load_principal=load_principal,
    app_password=use_app_password,
)
for _prefix in PREFIXES:
    allow_basic_auth(_prefix, sign_in)
    # PUT bodies stream to the blob store; the quota cuts them, this only bounds them.
    allow_streamed_bodies(_prefix, get_settings().drive_max_upload_bytes + (1 << 20))


async def endpoint(request: Request) -> Response:
    principal = principal_of(request)
    if principal is None:  # the middleware asked for credentials already; a safeguard
        return Response(_("Not found.") + "\n", status_code=404, media_type="text/plain; charset=utf-8")
    handler = HANDLERS.get(request.method)
    try:
        if handler is None:
            raise DavError(405, _("This method is not allowed here."), headers={"allow": ", ".join(METHODS)})
        location = await targets.locate(principal, raw_path(request))
        conditions = headers.parse_if(request.headers["if"]) if "if" in request.headers else []
        response = await handler(Context(request, principal, location, conditions))
    except DavError as exc:
        response = exc.response()
    except MalformedXml as exc:
        response = DavError(400, _("The request body is not valid XML: {reason}").format(reason=exc)).response()
    except Locked as exc:
        condition = tag(DAV, "lock-token-submitted")
        href = f"<D:href>{request.url.path}</D:href>"
        response = DavError(423, str(exc), condition, href).response()
    except ServiceError as exc:
        response = DavError(exc.status, str(exc)).response()
    except ConnectionResetError:  # the client went away in the middle of its body
        response = DavError(400, _("The request body ended before its end.")).response()
    response.headers["dav"] = DAV_HEADER
    return response


ROUTES = [Route(f"{prefix}/{{path:path}}", endpoint, methods=METHODS) for prefix in PREFIXES]
