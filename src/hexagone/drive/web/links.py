"""The pages of public links (:mod:`hexagone.drive.service.links`).

For members: ``/drive/links/<node id>``, the links of a file or folder (make one with a
mode, a password and an expiry, copy its address the one time it is shown, revoke one),
where a manager also grants the access someone asked for; ``/drive/access/<node id>``,
where a member who may not open a file or folder asks its managers for access.

For anyone with the address, signed in or not: ``/s/<token>`` (the password form when
the link has one; a file's name, size and download; a folder's entries and their
downloads; a file drop's form), ``/s/<token>/files/<id>`` (a download, with Range) and
``/s/<token>/upload`` (a file drop's upload, streamed as the drive's own upload form).
The proof of the right password is a cookie valid for this link's path only.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import UTC, date, datetime, time
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response, StreamingResponse
from starlette.routing import Route

from hexagone.core import downloads, pages
from hexagone.core.auth import Principal
from hexagone.core.config import get_settings
from hexagone.core.db import org_session
from hexagone.core.exceptions import Invalid, NotFound, ServiceError
from hexagone.core.forms import field, parse_uuid, pieces, required_uuid
from hexagone.core.i18n import N_
from hexagone.core.i18n import gettext as _
from hexagone.core.web import allow_streamed_bodies, login_required, principal_of
from hexagone.drive import service
from hexagone.identity.service import person

PUBLIC_PREFIX = "/s"
PROOF_COOKIE = "hx_link"

allow_streamed_bodies(PUBLIC_PREFIX, get_settings().drive_max_upload_bytes + (1 << 20))
pages.notices(
    {
        "drive_link_revoked": N_("The link is revoked: its address no longer opens anything."),
        "drive_access_granted": N_("Access is granted."),
        "drive_access_requested": N_("Your request is sent to the people who manage it, if it exists."),
        "drive_link_uploaded": N_("Your file is sent. Thank you."),
    }
)


def _ip(request: Request) -> str:
    return request.client.host if request.client else ""


def _expiry(value: str) -> datetime | None:
    """A date of the form (YYYY-MM-DD): the link works until the end of that day (UTC)."""
    if not value:
        return None
    try:
        return datetime.combine(date.fromisoformat(value), time.max, tzinfo=UTC)
    except ValueError:
        raise Invalid(_("The expiry date must be a date (YYYY-MM-DD).")) from None


# Members: the links of a node, and access asked and granted


async def _links_page(
    request: Request, error: ServiceError | None = None, made: service.NewLink | None = None
) -> Response:
    principal = pages.me(request)
    node_id = parse_uuid(request.path_params["node_id"])
    async with org_session(principal.org_id) as db:
        found = await service.node(db, principal, node_id)
        made_links = await service.node_links(db, principal, node_id)
        wanted = request.query_params.get("requester", "")
        requester = await person(db, parse_uuid(wanted)) if wanted else None
    if requester is not None and requester.org_id != principal.org_id:
        requester = None
    context: dict[str, Any] = {
        "node": found,
        "links": made_links,
        "requester": requester,
        "made": made,
        "made_url": str(request.base_url).rstrip("/") + service.link_path(made.token) if made else "",
    }
    return pages.render(request, "drive/links.html", context, error)


@login_required
async def links_page(request: Request) -> Response:
    return await _links_page(request)


@login_required
async def create(request: Request) -> Response:
    """Make a link and show its address on the page at once: it is shown this one time."""
    principal = pages.me(request)
    node_id = parse_uuid(request.path_params["node_id"])
    form = await request.form()
    try:
        async with org_session(principal.org_id, write=True) as db:
            made = await service.create_link(
                db,
                principal,
                node_id,
                mode=field(form, "mode", 16) or "view",
                password=field(form, "password", 1000),
                expires_at=_expiry(field(form, "expires", 20)),
                ip=_ip(request),
            )
            await db.commit()
    except pages.FORM_ERRORS as error:
        return await _links_page(request, error)
    return await _links_page(request, made=made)


@login_required
async def revoke(request: Request) -> Response:
    principal = pages.me(request)
    node_id = parse_uuid(request.path_params["node_id"])
    form = await request.form()
    async with org_session(principal.org_id, write=True) as db:
        await service.revoke_link(db, principal, required_uuid(form, "link_id"), ip=_ip(request))
        await db.commit()
    return pages.done(f"/drive/links/{node_id}", "drive_link_revoked")


async def _grant(db: AsyncSession, principal: Principal, form: FormData, params: Mapping[str, Any]) -> Response:
    node_id = parse_uuid(params["node_id"])
    role = field(form, "role", 16)
    await service.share(db, principal, node_id, role, user_id=required_uuid(form, "user_id"))
    return pages.done(f"/drive/links/{node_id}", "drive_access_granted")


async def _opening(principal: Principal, node_id: uuid.UUID) -> str | None:
    """The address that opens the node when the principal may see it, else None."""
    async with org_session(principal.org_id) as db:
        try:
            found = await service.node(db, principal, node_id)
        except NotFound:
            return None
    return f"/drive/folders/{node_id}" if found.is_folder else f"/drive/files/{node_id}"


@login_required
async def access_page(request: Request) -> Response:
    """Ask for access to a file or folder one may not open (or open it, if one may)."""
    principal = pages.me(request)
    node_id = parse_uuid(request.path_params["node_id"])
    if request.method == "POST":
        form = await request.form()
        async with org_session(principal.org_id, write=True) as db:
            reachable = await service.request_access(db, principal, node_id, field(form, "note", 1000))
            await db.commit()
        if not reachable:
            return pages.done(f"/drive/access/{node_id}", "drive_access_requested")
    opening = await _opening(principal, node_id)
    if opening is not None:
        return RedirectResponse(opening, status_code=303)
    return pages.render(request, "drive/access.html", {"node_id": node_id})


# Anyone with the address


def _visitor(request: Request) -> service.Visitor:
    return service.Visitor(_ip(request), principal_of(request), request.cookies.get(PROOF_COOKIE, ""))


def _public(request: Request, context: dict[str, Any], error: ServiceError | None = None) -> Response:
    token = request.path_params["token"]
    return pages.render(request, "drive/link_public.html", {"token": token, **context}, error)


async def public_page(request: Request) -> Response:
    """The link's page, or its password form."""
    token = request.path_params["token"]
    wanted = request.query_params.get("folder", "")
    try:
        view = await service.view_link(token, _visitor(request), parse_uuid(wanted) if wanted else None)
    except service.PasswordNeeded:
        return _public(request, {"locked": True})
    return _public(request, {"view": view})


async def unlock(request: Request) -> Response:
    token = request.path_params["token"]
    form = await request.form()
    try:
        proof = await service.unlock_link(token, field(form, "password", 1000), _visitor(request))
    except ServiceError as error:
        if error.status == 404:
            raise
        return _public(request, {"locked": True}, error)
    response = RedirectResponse(service.link_path(token), status_code=303)
    if proof:
        # A browser-session cookie: the proof carries its own expiry.
        secure = get_settings().resolved_base_url.startswith("https://")
        response.set_cookie(
            PROOF_COOKIE,
            proof,
            path=service.link_path(token),
            httponly=True,
            samesite="lax",
            secure=secure,
        )
    return response


async def public_download(request: Request) -> Response:
    token = request.path_params["token"]
    node_id = parse_uuid(request.path_params["node_id"])
    try:
        found, stream, span = await service.download_link(
            token, _visitor(request), node_id, request.headers.get("range")
        )
    except downloads.Unsatisfiable:
        return Response(status_code=416)
    start, end = span or (0, found.size)
    headers = {
        "content-disposition": downloads.attachment(found.name),
        "content-length": str(end - start),
        "accept-ranges": "bytes",
        "etag": f'"{found.etag}"',
        "cache-control": "private, no-store",
    }
    if span is not None:
        headers["content-range"] = f"bytes {start}-{end - 1}/{found.size}"
    media = found.content_type or "application/octet-stream"
    return StreamingResponse(stream, status_code=206 if span else 200, media_type=media, headers=headers)


async def public_upload(request: Request) -> Response:
    """A file drop's upload: the body streamed, the file stored under the link's rights."""
    token = request.path_params["token"]
    async with request.form(max_files=1) as form:
        chosen = form.get("file")
        try:
            if not isinstance(chosen, UploadFile) or not chosen.filename:
                raise Invalid(_("Choose a file to send."))
            await service.upload_link(token, _visitor(request), chosen.filename, pieces(chosen))
        except service.PasswordNeeded:
            return _public(request, {"locked": True})
        except ServiceError as error:
            if error.status == 404:
                raise
            view = await service.view_link(token, _visitor(request))
            return _public(request, {"view": view}, error)
    return pages.done(service.link_path(token), "drive_link_uploaded")


# Inside the module: the app mounts them under /drive/.
ROUTES = [
    Route("/links/{node_id}", links_page),
    Route("/links/{node_id}/create", create, methods=["POST"]),
    Route("/links/{node_id}/revoke", revoke, methods=["POST"]),
    Route("/links/{node_id}/grant", pages.form_endpoint(login_required, _grant, _links_page), methods=["POST"]),
    Route("/access/{node_id}", access_page, methods=["GET", "POST"]),
]
PUBLIC_ROUTES = [
    Route(PUBLIC_PREFIX + "/{token}", public_page),
    Route(PUBLIC_PREFIX + "/{token}/unlock", unlock, methods=["POST"]),
    Route(PUBLIC_PREFIX + "/{token}/files/{node_id}", public_download),
    Route(PUBLIC_PREFIX + "/{token}/upload", public_upload, methods=["POST"]),
]
