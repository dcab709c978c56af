"""The calendar module's unified-search provider: events and tasks whose title matches,
and contacts whose name or an e-mail matches, only in the calendars and address books
the core policy lets the principal read (their own, their spaces', those shared with
them, the rooms'). The directory's people are identity's provider's to find."""

from __future__ import annotations

from sqlalchemy import select

from hexagone.calendar.models import CollectionKind, DavObject
from hexagone.calendar.service import collections, contacts
from hexagone.core.auth import Principal
from hexagone.core.db import org_session
from hexagone.core.formatting import when
from hexagone.core.i18n import gettext as _
from hexagone.core.modules import SearchHit


async def events(principal: Principal, query: str, limit: int) -> list[SearchHit]:
    async with org_session(principal.org_id) as db:
        readable = {
            r.collection.id: r.collection for r in await collections.visible(db, principal, CollectionKind.CALENDAR)
        }
        if not readable or not query.strip():
            return []
        found = (
            await db.execute(
                select(DavObject)
                .where(
                    DavObject.collection_id.in_(list(readable)),
                    contacts.text_matches(DavObject.title, query),
                )
                .order_by(DavObject.starts_at.desc())
                .limit(limit)
            )
        ).scalars()
        return [
            SearchHit(
                kind=_("Task") if row.component == "VTODO" else _("Event"),
                title=row.title or _("(no title)"),
                subtitle=" · ".join(
                    x for x in (when(row.starts_at) if row.starts_at else "", readable[row.collection_id].name) if x
                ),
                url=f"/calendar/events/{row.id}",
            )
            for row in found
        ]


async def people(principal: Principal, query: str, limit: int) -> list[SearchHit]:
    async with org_session(principal.org_id) as db:
        found = await contacts.search(db, principal, query, limit)
    return [
        SearchHit(
            kind=_("Contact"),
            title=contact.display,
            subtitle=" · ".join(x for x in (", ".join(contact.emails[:2]), book.name) if x),
            url=f"/calendar/contacts/{book.id}/{contact.id}",
        )
        for contact, book in found
    ]
