"""The calendar module's part of an organisation's export, and restoring it.

The export holds every calendar as one ``.ics`` file and every address book as one
``.vcf`` file, under ``calendar/``: ``users/<e-mail>/<slug>.ics|.vcf`` for a user's own,
``spaces/<space id>/<slug>.ics`` for a space's, ``resources/<slug>.ics`` for rooms, and
``collections.json`` listing them with what the files cannot say (name, colour, kind,
purpose, owner). The directory is not exported: it is generated from identity's people,
which identity's part of the export holds.

:func:`restore` reads such an export into an organisation: each collection is found
again (owner by e-mail, space by id, room by slug) or created, and each resource stored
through :mod:`objects`, replacing one with the same UID, so restoring twice is harmless.
"""

from __future__ import annotations

import json
import uuid
import zipfile
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hexagone.calendar.importing import Progress, Report, join_ics, split_ics, store_all
from hexagone.calendar.models import Collection, CollectionKind, DavObject, Purpose
from hexagone.calendar.policy import Reach
from hexagone.calendar.service.contacts_vcard import split
from hexagone.core.db import org_session
from hexagone.core.exceptions import Invalid
from hexagone.core.export import ExportWriter
from hexagone.core.i18n import _
from hexagone.identity.service import people_by_ids, person_by_email

INDEX = "collections.json"
FOLDER = "calendar/"


def _folder(collection: Collection, emails: dict[uuid.UUID, str]) -> str | None:
    if collection.purpose == Purpose.PERSONAL and collection.owner_id in emails:
        return f"users/{emails[collection.owner_id]}"
    if collection.purpose == Purpose.SPACE and collection.space_id is not None:
        return f"spaces/{collection.space_id}"
    if collection.purpose == Purpose.RESOURCE:
        return "resources"
    return None  # the directory: identity's people, exported by identity


async def export_organisation(db: AsyncSession, _org_id: uuid.UUID, writer: ExportWriter) -> None:
    rows = list((await db.execute(select(Collection).order_by(Collection.created_at, Collection.id))).scalars())
    owners = await people_by_ids(db, {c.owner_id for c in rows if c.owner_id is not None})
    emails = {user_id: p.email for user_id, p in owners.items()}
    index: list[dict[str, Any]] = []
    for collection in rows:
        folder = _folder(collection, emails)
        if folder is None:
            continue
        texts = list(
            (
                await db.execute(
                    select(DavObject.data).where(DavObject.collection_id == collection.id).order_by(DavObject.name)
                )
            ).scalars()
        )
        calendar = collection.kind == CollectionKind.CALENDAR
        path = f"{folder}/{collection.slug}.{'ics' if calendar else 'vcf'}"
        if calendar:
            body = join_ics(texts, collection.name)
        else:
            body = "".join(t if t.endswith("\n") else t + "\r\n" for t in texts)
        writer.write_text(path, body)
        index.append(
            {
                "file": path,
                "kind": collection.kind,
                "purpose": collection.purpose,
                "owner": emails.get(collection.owner_id) if collection.owner_id else None,
                "space_id": collection.space_id,
                "slug": collection.slug,
                "name": collection.name,
                "description": collection.description,
                "color": collection.color,
                "timezone": collection.timezone,
                "components": collection.components,
                "capacity": collection.capacity,
                "objects": len(texts),
            }
        )
    writer.write_json(INDEX, index)


async def _collection(db: AsyncSession, org_id: uuid.UUID, entry: dict[str, Any]) -> Collection | None:
    """The collection an index entry names in this organisation, created when missing;
    None when its owner is not (or no longer) here."""
    kind, purpose, slug = str(entry["kind"]), str(entry["purpose"]), str(entry["slug"])
    if kind not in set(CollectionKind) or purpose not in (Purpose.PERSONAL, Purpose.SPACE, Purpose.RESOURCE):
        raise Invalid(_("The export names an unknown kind of collection: {kind}").format(kind=kind))
    owner_id = space_id = None
    query = select(Collection).where(Collection.kind == kind, Collection.slug == slug, Collection.purpose == purpose)
    if purpose == Purpose.PERSONAL:
        owner = await person_by_email(db, str(entry.get("owner") or ""))
        if owner is None or owner.org_id != org_id:
            return None
        owner_id = owner.id
        query = query.where(Collection.owner_id == owner_id)
    elif purpose == Purpose.SPACE:
        space_id = uuid.UUID(str(entry["space_id"]))
        query = query.where(Collection.space_id == space_id)
    found = await db.scalar(query)
    if found is None:
        found = Collection(
            org_id=org_id,
            kind=kind,
            purpose=purpose,
            owner_id=owner_id,
            space_id=space_id,
            slug=slug[:100],
            name=str(entry.get("name") or slug)[:200],
            description=str(entry.get("description") or "")[:2000],
            color=str(entry.get("color") or "#3465a4")[:9],
            timezone=str(entry.get("timezone") or "Europe/Paris")[:64],
            components=str(entry.get("components") or ""),
            capacity=entry.get("capacity") if isinstance(entry.get("capacity"), int) else None,
        )
        db.add(found)
        await db.flush()
    return found


async def restore(path: Path, org_id: uuid.UUID, progress: Progress | None = None) -> tuple[Report, list[str]]:
    """Restore the calendar part of the export at ``path`` into the organisation: (what
    was stored, the files skipped because their owner is not a member here)."""
    try:
        archive = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile) as exc:
        raise Invalid(_("{path} is not an organisation export: {reason}").format(path=path, reason=exc)) from exc
    report, skipped = Report(), []
    with archive:
        try:
            index = json.loads(archive.read(FOLDER + INDEX))
        except KeyError:
            raise Invalid(_("The export holds no calendar part.")) from None
        for entry in index:
            text = archive.read(FOLDER + str(entry["file"])).decode("utf-8")
            async with org_session(org_id, write=True) as db:
                collection = await _collection(db, org_id, entry)
                if collection is None:
                    skipped.append(str(entry["file"]))
                    continue
                texts = (
                    []
                    if not entry.get("objects")
                    else split_ics(text)
                    if collection.kind == CollectionKind.CALENDAR
                    else split(text)
                )
                report.collections[str(entry["file"])] = await store_all(db, Reach(collection), texts, progress)
                await db.commit()
    return report, skipped
