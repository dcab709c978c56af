"""The JSON API under ``/api/v1``: one FastAPI application gathering every module's routers,
with its OpenAPI document at ``/api/v1/openapi.json``.

Callers authenticate with the browser session (plus the ``X-CSRF-Token`` header for unsafe
methods) or an OAuth2 bearer token from our own provider. Errors are always
``{"error": message, "status": code}``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Header, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.security import APIKeyCookie, HTTPBearer
from pydantic import AfterValidator, BaseModel, BeforeValidator, Field, WithJsonSchema
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.exceptions import HTTPException as StarletteHTTPException

from hexagone import __version__
from hexagone.core.auth import SESSION_COOKIE, Principal
from hexagone.core.db import org_session
from hexagone.core.exceptions import ServiceError
from hexagone.core.modules import Registry

bearer_scheme = HTTPBearer(auto_error=False, description="An access token issued by Hexagone's OpenID provider.")
session_scheme = APIKeyCookie(
    name=SESSION_COOKIE,
    auto_error=False,
    description="The browser session; unsafe methods also need the X-CSRF-Token header of the page.",
)


def _valid_unicode(value: str) -> str:
    """Refuse lone UTF-16 surrogates and NUL: JSON carries them, no database (PostgreSQL's
    text refuses NUL) or file format can; the calendar's and the drive's APIs take text as :data:`Text`."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("text must be valid Unicode (no lone surrogates)") from None
    if "\x00" in value:
        raise ValueError("text must not contain NUL characters")
    return value


Text = Annotated[
    str,
    AfterValidator(_valid_unicode),
    # The NUL rule, stated in the OpenAPI document so that clients (and schemathesis) know
    # it; a lone surrogate is not a character JSON Schema's regex engines can name.
    Field(json_schema_extra={"pattern": r"^[^\u0000]*$"}),
]


# Something to show (a character that is neither a space nor a control), and no NUL.
_LINE = r"^[^\x00]*[^\s\x00-\x1f\x7f][^\x00]*$"


def _whole(value: object) -> object:
    """A JSON integer, as JSON Schema counts them (433.0 is one); never a string or a boolean."""
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or (isinstance(value, float) and not value.is_integer())
    ):
        raise ValueError("an integer")
    return int(value)


def whole(low: int, high: int) -> Any:
    """An integer in [low, high] (its JSON Schema written out: pydantic leaves ``ge`` and
    ``le`` unconverted beside a before-validator)."""
    return Annotated[
        int,
        BeforeValidator(_whole),
        Field(ge=low, le=high),
        WithJsonSchema({"type": "integer", "minimum": low, "maximum": high}),
    ]


def line(max_length: int) -> Any:
    """A label a person reads on one line (a tag, a field's name, a choice), of 1 to
    ``max_length`` characters with something to show: what services' ``clean_label``
    keeps, stated in the schema so that clients (and schemathesis) know it."""
    return Annotated[str, Field(min_length=1, max_length=max_length, pattern=_LINE), AfterValidator(_valid_unicode)]


class ErrorBody(BaseModel):
    error: str
    status: int


class ProblemOut(BaseModel):
    field: str
    message: str


class ValidationErrorBody(BaseModel):
    """What the API answers when the request does not match the schema."""

    error: str
    status: int
    problems: list[ProblemOut]


ERROR_RESPONSES: dict[int | str, dict[str, object]] = {
    400: {"model": ErrorBody, "description": "The request is not valid (a NUL in the address, for one)."},
    401: {"model": ErrorBody, "description": "Not signed in, or the token is invalid."},
    403: {"model": ErrorBody, "description": "Signed in, but not allowed."},
    404: {"model": ErrorBody, "description": "No such object in the caller's organisation."},
}


def error_responses(described: Mapping[int, str], *statuses: int) -> dict[int | str, dict[str, object]]:
    """A route's ``responses=``: the 422 of a body that does not match the schema and the
    ``statuses`` it may answer, each described by ``described`` (beside the 401/403/404
    every route declares through :data:`ERROR_RESPONSES`)."""
    responses: dict[int | str, dict[str, object]] = {
        422: {"model": ValidationErrorBody, "description": "The request does not match the schema."},
    }
    responses.update({status: {"model": ErrorBody, "description": described[status]} for status in statuses})
    return responses


def current_principal(
    request: Request,
    _token: Annotated[object, Depends(bearer_scheme)] = None,
    _session: Annotated[object, Depends(session_scheme)] = None,
) -> Principal:
    """The caller, resolved by the core middleware from a bearer token or the session
    (the two schemes are declared so the OpenAPI document says either one will do)."""
    principal: Principal | None = request.scope.get("principal")
    if principal is None:
        raise HTTPException(401, "authentication required")
    return principal


def admin_principal(principal: Annotated[Principal, Depends(current_principal)]) -> Principal:
    if not principal.is_admin:
        raise HTTPException(403, "organisation administrators only")
    return principal


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


@asynccontextmanager
async def session(principal: Principal, *, write: bool = False) -> AsyncIterator[AsyncSession]:
    """The caller's organisation-scoped session, as every module's routes open it (a
    service's refusal becomes the API's error body, above)."""
    async with org_session(principal.org_id, write=write) as db:
        yield db


AdminPrincipal = Annotated[Principal, Depends(admin_principal)]

# A download's ``Range`` header (one range is served: hexagone.core.downloads)
RangeHeader = Annotated[str | None, Header(alias="range", description="bytes=a-b, bytes=a- or bytes=-n")]


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    message = exc.detail if isinstance(exc.detail, str) else "error"
    headers = dict(getattr(exc, "headers", None) or {})
    if exc.status_code == 405:
        headers["Allow"] = ", ".join(_allowed_methods(request))
    return JSONResponse(
        {"error": message, "status": exc.status_code}, status_code=exc.status_code, headers=headers or None
    )


def _allowed_methods(request: Request) -> list[str]:
    """Every method of every route on this path. Starlette's own 405 names only the
    methods of the first route that matched, though GET and POST of one path are often
    two routes."""
    path = request.url.path.removeprefix(request.scope.get("root_path", ""))
    methods: set[str] = set()
    for route in request.app.routes:
        regex = getattr(route, "path_regex", None)
        if regex is not None and regex.match(path):
            methods.update(getattr(route, "methods", None) or ())
    return sorted(methods)


async def _service_error(_request: Request, exc: Exception) -> JSONResponse:
    """A service's refusal (Invalid, Forbidden, NotFound, Conflict…) with its status and
    its already translated message."""
    assert isinstance(exc, ServiceError)
    return JSONResponse({"error": exc.message, "status": exc.status}, status_code=exc.status)


async def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    problems = [
        {"field": ".".join(str(p) for p in e.get("loc", ())), "message": e.get("msg", "")} for e in exc.errors()
    ]
    return JSONResponse({"error": "invalid request", "status": 422, "problems": problems}, status_code=422)


def build(registry: Registry) -> FastAPI:
    api = FastAPI(
        title="Hexagone API",
        version=__version__,
        openapi_url="/openapi.json",
        docs_url=None,
        redoc_url=None,
        responses=ERROR_RESPONSES,
    )
    api.add_exception_handler(StarletteHTTPException, _http_error)
    api.add_exception_handler(RequestValidationError, _validation_error)
    api.add_exception_handler(ServiceError, _service_error)
    for module in registry:
        for router in module.api_routers:
            prefix = f"/{module.name}" if module.subscribable else ""
            api.include_router(router, prefix=prefix)
    api.openapi = _with_url_rules(api)  # type: ignore[method-assign]
    return api


NO_NUL = "^[^\\u0000]*$"


def _with_url_rules(api: FastAPI) -> Callable[[], dict[str, Any]]:
    """The document FastAPI generates, plus the rule core's request middleware applies to
    every address (``_names_a_nul`` in :mod:`hexagone.core.web`): no text parameter of the
    path or the query may hold a NUL. Stated once here, so that clients and schemathesis
    know it whatever module declared the parameter."""
    generate = api.openapi

    def openapi() -> dict[str, Any]:
        document = api.openapi_schema
        if document is None:
            document = generate()  # FastAPI keeps it in api.openapi_schema
            for path in document.get("paths", {}).values():
                for operation in path.values():
                    for parameter in operation.get("parameters", []) if isinstance(operation, dict) else []:
                        if parameter.get("in") in ("path", "query"):
                            _refuse_nul(parameter.get("schema", {}))
        return document

    return openapi


def _refuse_nul(schema: dict[str, Any]) -> None:
    """Add the pattern to every string of a parameter's schema that states none."""
    if schema.get("type") == "string" and "pattern" not in schema:
        schema["pattern"] = NO_NUL
    for key in ("anyOf", "oneOf", "allOf"):
        for option in schema.get(key, []):
            _refuse_nul(option)
    if isinstance(schema.get("items"), dict):
        _refuse_nul(schema["items"])
