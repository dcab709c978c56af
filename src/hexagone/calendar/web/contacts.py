"""The contacts pages under ``/calendar/contacts/``: the address books and their
contacts (searchable), one contact, the form to add or edit one, deleting, and ``.vcf``
import and export. Thin: every rule is in :mod:`hexagone.calendar.service.contacts`,
and the controls shown come from the same abilities the service enforces."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from hexagone.calendar.service import collections, contacts
from hexagone.calendar.service.collections import CollectionInfo
from hexagone.calendar.service.contacts_vcard import Contact, ContactFields, PostalAddress
from hexagone.core import pages
from hexagone.core.auth import Principal
from hexagone.core.db import org_session
from hexagone.core.exceptions import Conflict, Invalid, NotFound, PreconditionFailed, ServiceError
from hexagone.core.forms import field, parse_uuid, upload
from hexagone.core.i18n import N_
from hexagone.core.i18n import gettext as _
from hexagone.core.web import login_required

BASE = "/calendar/contacts"
MAX_VCF_BYTES = 10 * 1024 * 1024
FIELDS = ("given", "family", "formatted", "emails", "phones", "organisation", "title", "notes", "groups")
ADDRESS = ("street", "code", "locality", "region", "country")

pages.notices(
    {
        "contact_added": N_("The contact is added."),
        "contact_saved": N_("The contact is saved."),
        "contact_deleted": N_("The contact is deleted."),
        "contacts_imported": N_("The contacts are imported."),
    }
)


def _book_id(params: Mapping[str, Any], name: str = "book") -> uuid.UUID:
    return parse_uuid(params[name])


def _pick(books: list[CollectionInfo], wanted: str) -> CollectionInfo | None:
    if wanted:
        chosen = next((b for b in books if str(b.id) == wanted), None)
        if chosen is None:
            raise NotFound(_("No such address book."))
        return chosen
    return next((b for b in books if b.purpose == "personal" and b.slug == "contacts"), books[0] if books else None)


async def _index(request: Request, error: ServiceError | None = None) -> Response:
    principal = pages.me(request)
    query = request.query_params.get("q", "").strip()[:200]
    number = pages.page_number(request)
    await contacts.ensure_books(principal)
    async with org_session(principal.org_id) as db:
        books = await contacts.books(db, principal)
        chosen = _pick(books, request.query_params.get("book", "") or str(request.path_params.get("book", "")))
        listed = contacts.Page([], False)
        group_counts: list[tuple[str, int]] = []
        if chosen is not None:
            listed = await contacts.listing(db, principal, chosen.id, query=query, page=number)
            group_counts = await contacts.groups(db, principal, chosen.id)
    context = {
        "books": books,
        "book": chosen,
        "contacts": listed.contacts,
        "groups": group_counts,
        "query": query,
        "pager": pages.pager(request, number, has_next=listed.has_next),
    }
    return pages.render(request, "calendar/contacts/index.html", context, error)


@login_required
async def index(request: Request) -> Response:
    return await _index(request)


async def _show(request: Request) -> Response:
    principal = pages.me(request)
    async with org_session(principal.org_id) as db:
        book = await contacts.book(db, principal, _book_id(request.path_params))
        contact = await contacts.get(db, principal, book.collection.id, parse_uuid(request.path_params["contact"]))
        info = collections.info(principal, book)
    return pages.render(request, "calendar/contacts/contact.html", {"book": info, "contact": contact})


def _form_fields(form: FormData, previous: Contact | None) -> ContactFields:
    def lines(name: str) -> tuple[str, ...]:
        return tuple(x.strip() for x in field(form, name, 5000).replace(",", "\n").splitlines() if x.strip())

    postal = PostalAddress(
        **{k: field(form, k, 500) for k in ADDRESS},
        kind=previous.addresses[0].kind if previous and previous.addresses else "",
    )
    kept = previous.addresses[1:] if previous else ()
    return ContactFields(
        given=field(form, "given", 200),
        family=field(form, "family", 200),
        formatted=field(form, "formatted", 500),
        emails=lines("emails"),
        phones=tuple(x.strip() for x in field(form, "phones", 2000).splitlines() if x.strip()),
        organisation=field(form, "organisation", 500),
        title=field(form, "title", 500),
        notes=field(form, "notes", 20000),
        addresses=(postal, *kept),
        groups=lines("groups"),
    )


def _typed(contact: Contact | None) -> dict[str, str]:
    if contact is None:
        return dict.fromkeys((*FIELDS, *ADDRESS), "")
    first = contact.addresses[0] if contact.addresses else PostalAddress()
    return {
        "given": contact.given,
        "family": contact.family,
        "formatted": contact.formatted,
        "emails": "\n".join(contact.emails),
        "phones": "\n".join(contact.phones),
        "organisation": contact.organisation,
        "title": contact.title,
        "notes": contact.notes,
        "groups": ", ".join(contact.groups),
        **{k: getattr(first, k) for k in ADDRESS},
    }


async def _form_page(request: Request, error: ServiceError | None = None) -> Response:
    principal = pages.me(request)
    contact_id = request.path_params.get("contact")
    async with org_session(principal.org_id) as db:
        book = await contacts.book(db, principal, _book_id(request.path_params), "write")
        contact = await contacts.get(db, principal, book.collection.id, parse_uuid(contact_id)) if contact_id else None
        info = collections.info(principal, book)
    typed = _typed(contact)
    if error is not None and request.method == "POST":
        form = await request.form()
        typed = {k: v if isinstance(v := form.get(k, ""), str) else "" for k in typed}
    context = {"book": info, "contact": contact, "typed": typed}
    return pages.render(request, "calendar/contacts/form.html", context, error)


async def _create(db: AsyncSession, principal: Principal, form: FormData, params: Mapping[str, Any]) -> Response:
    book_id = _book_id(params)
    created = await contacts.create(db, principal, book_id, _form_fields(form, None))
    return pages.done(f"{BASE}/{book_id}/{created.id}", "contact_added")


async def _edit(db: AsyncSession, principal: Principal, form: FormData, params: Mapping[str, Any]) -> Response:
    book_id, contact_id = _book_id(params), parse_uuid(params["contact"])
    previous = await contacts.get(db, principal, book_id, contact_id)
    try:
        await contacts.update(
            db, principal, book_id, contact_id, _form_fields(form, previous), if_match=field(form, "etag", 64) or None
        )
    except PreconditionFailed:
        raise Conflict(
            _("Someone changed this contact since you opened it: open it again to see their change.")
        ) from None
    return pages.done(f"{BASE}/{book_id}/{contact_id}", "contact_saved")


async def _confirm_delete(request: Request, error: ServiceError | None = None) -> Response:
    principal = pages.me(request)
    async with org_session(principal.org_id) as db:
        book = await contacts.book(db, principal, _book_id(request.path_params), "write")
        contact = await contacts.get(db, principal, book.collection.id, parse_uuid(request.path_params["contact"]))
        info = collections.info(principal, book)
    return pages.render(request, "calendar/contacts/delete.html", {"book": info, "contact": contact}, error)


async def _delete(db: AsyncSession, principal: Principal, _form: FormData, params: Mapping[str, Any]) -> Response:
    book_id = _book_id(params)
    await contacts.remove(db, principal, book_id, parse_uuid(params["contact"]))
    return pages.done(f"{BASE}/?book={book_id}", "contact_deleted")


async def _import(db: AsyncSession, principal: Principal, form: FormData, params: Mapping[str, Any]) -> Response:
    book_id = _book_id(params)
    data = await upload(form, "file", MAX_VCF_BYTES)
    if data is None:
        raise Invalid(_("Choose a .vcf file to import."))
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise Invalid(_("The file is not UTF-8 text.")) from None
    await contacts.import_vcf(db, principal, book_id, text)
    return pages.done(f"{BASE}/?book={book_id}", "contacts_imported")


async def _index_after_error(request: Request, error: ServiceError | None = None) -> Response:
    return await _index(request, error)


@login_required
async def export(request: Request) -> Response:
    principal = pages.me(request)
    async with org_session(principal.org_id) as db:
        info, text = await contacts.export_vcf(db, principal, _book_id(request.path_params))
    filename = "".join(c for c in info.name if c.isalnum() or c in " -_").strip() or "contacts"
    return Response(
        text,
        media_type="text/vcard; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}.vcf"'},
    )


@login_required
async def show(request: Request) -> Response:
    return await _show(request)


@login_required
async def root(_request: Request) -> Response:
    return RedirectResponse(f"{BASE}/", status_code=308)


# Paths inside the module: the app mounts them under /calendar/.
ROUTES = [
    Route("/contacts", root),
    Route("/contacts/", index),
    Route(
        "/contacts/{book:uuid}/new", pages.page_or_submit(login_required, _create, _form_page), methods=["GET", "POST"]
    ),
    Route(
        "/contacts/{book:uuid}/import",
        pages.form_endpoint(login_required, _import, _index_after_error),
        methods=["POST"],
    ),
    Route("/contacts/{book:uuid}/export.vcf", export),
    Route("/contacts/{book:uuid}/{contact:uuid}", show),
    Route(
        "/contacts/{book:uuid}/{contact:uuid}/edit",
        pages.page_or_submit(login_required, _edit, _form_page),
        methods=["GET", "POST"],
    ),
    Route(
        "/contacts/{book:uuid}/{contact:uuid}/delete",
        pages.page_or_submit(login_required, _delete, _confirm_delete),
        methods=["GET", "POST"],
    ),
]
