"""What is said about a file besides its content: its description and tags, the custom
fields a space's drive defines (the document-management part: a contract's number, a
decision's date), WebDAV's dead properties, and each person's favourites and recent files.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from hexagone.core.auth import Principal
from hexagone.core.db import utcnow
from hexagone.core.exceptions import Conflict, Invalid, NotFound
from hexagone.core.i18n import gettext as _
from hexagone.drive.models import DriveKind, Favourite, FieldDef, FieldKind, FieldValue, Node, Property, Recent, Tag
from hexagone.drive.service import locking, names, storage
from hexagone.drive.service.access import NodeInfo, load, node_info
from hexagone.identity.service import clean_label

MAX_DESCRIPTION = 10_000
MAX_TAGS = 50
MAX_VALUE = 2000


@dataclass(frozen=True)
class FieldInfo:
    """A custom field of a space's drive."""

    id: uuid.UUID
    label: str
    kind: str  # text, number, date or choice
    choices: tuple[str, ...]
    position: int


async def set_description(db: AsyncSession, principal: Principal, node_id: uuid.UUID, text: str) -> NodeInfo:
    found = await load(db, principal, node_id, "write")
    if len(text) > MAX_DESCRIPTION or "\x00" in text:
        raise Invalid(_("A description is at most %(n)s characters of text.", n=MAX_DESCRIPTION))
    found.node.description = text
    found.node.modified_at, found.node.modified_by = utcnow(), principal.user_id
    await db.flush()
    return await node_info(db, found)


async def tags(db: AsyncSession, principal: Principal, node_id: uuid.UUID) -> list[str]:
    found = await load(db, principal, node_id)
    rows = await db.execute(select(Tag.label).where(Tag.node_id == found.node.id).order_by(Tag.key))
    return list(rows.scalars())


async def set_tags(db: AsyncSession, principal: Principal, node_id: uuid.UUID, labels: Sequence[str]) -> list[str]:
    """Replace a node's tags (the same tag typed twice, in any case, is kept once)."""
    found = await load(db, principal, node_id, "write")
    cleaned: dict[str, str] = {}
    for label in labels:
        text = clean_label(label, _("A tag is one line of 1 to 100 characters."), max_length=100)
        cleaned.setdefault(names.key(text), text)
    if len(cleaned) > MAX_TAGS:
        raise Invalid(_("A file has at most %(n)s tags.", n=MAX_TAGS))
    await db.execute(delete(Tag).where(Tag.node_id == found.node.id))
    for key, label in cleaned.items():
        db.add(Tag(org_id=principal.org_id, node_id=found.node.id, label=label, key=key))
    await db.flush()
    return sorted(cleaned.values(), key=names.key)


def _field_info(row: FieldDef) -> FieldInfo:
    return FieldInfo(row.id, row.label, row.kind, tuple(c for c in row.choices.split("\n") if c), row.position)


async def fields(db: AsyncSession, principal: Principal, drive_id: uuid.UUID) -> list[FieldInfo]:
    """The custom fields a drive defines, in order."""
    await storage.root_found(db, principal, drive_id)
    return await _defined(db, drive_id)


async def node_fields(db: AsyncSession, principal: Principal, node_id: uuid.UUID) -> list[FieldInfo]:
    """The custom fields of the drive a node is in, for whoever sees the node (someone a
    file was shared with sees its fields without reaching the drive's root)."""
    return await _defined(db, (await load(db, principal, node_id)).drive.id)


async def _defined(db: AsyncSession, drive_id: uuid.UUID) -> list[FieldInfo]:
    rows = await db.execute(
        select(FieldDef).where(FieldDef.drive_id == drive_id).order_by(FieldDef.position, FieldDef.key)
    )
    return [_field_info(row) for row in rows.scalars()]


async def define_field(
    db: AsyncSession,
    principal: Principal,
    drive_id: uuid.UUID,
    label: str,
    kind: str = FieldKind.TEXT,
    choices: Sequence[str] = (),
) -> FieldInfo:
    """Add a custom field to a space's drive (its managers)."""
    root = await storage.root_found(db, principal, drive_id, "manage")
    if root.drive.kind != DriveKind.SPACE:
        raise Invalid(_("Custom fields belong to a space's drive."))
    if kind not in set(FieldKind):
        raise Invalid(_("Unknown kind of field."))
    label = clean_label(label, _("A field's name is one line of 1 to 100 characters."), max_length=100)
    options = tuple(
        dict.fromkeys(
            clean_label(c, _("A choice is one line of 1 to 200 characters."), max_length=200) for c in choices
        )
    )
    if kind == FieldKind.CHOICE and not options:
        raise Invalid(_("A choice field needs at least one choice."))
    key = names.key(label)
    if await db.scalar(select(FieldDef.id).where(FieldDef.drive_id == drive_id, FieldDef.key == key)):
        raise Conflict(_("This drive already has a field called “%(name)s”.", name=label))
    count = len(await fields(db, principal, drive_id))
    row = FieldDef(
        org_id=principal.org_id,
        drive_id=drive_id,
        label=label,
        key=key,
        kind=kind,
        choices="\n".join(options),
        position=count,
    )
    db.add(row)
    await db.flush()
    return _field_info(row)


async def remove_field(db: AsyncSession, principal: Principal, field_id: uuid.UUID) -> None:
    row = await db.get(FieldDef, field_id)
    if row is None or row.org_id != principal.org_id:
        raise NotFound(_("No such field."))
    await storage.root_found(db, principal, row.drive_id, "manage")
    await db.delete(row)
    await db.flush()


def _checked(definition: FieldDef, value: str) -> str:
    value = value.strip()
    if len(value) > MAX_VALUE or "\x00" in value:
        raise Invalid(_("A field's value is at most %(n)s characters of text.", n=MAX_VALUE))
    if not value:
        return value
    if definition.kind == FieldKind.NUMBER:
        try:
            Decimal(value.replace(",", "."))
        except InvalidOperation:
            raise Invalid(_("%(field)s must be a number.", field=definition.label)) from None
    elif definition.kind == FieldKind.DATE:
        try:
            date.fromisoformat(value)
        except ValueError:
            raise Invalid(_("%(field)s must be a date (YYYY-MM-DD).", field=definition.label)) from None
    elif definition.kind == FieldKind.CHOICE and value not in definition.choices.split("\n"):
        raise Invalid(_("%(field)s must be one of its choices.", field=definition.label))
    return value


async def field_values(db: AsyncSession, principal: Principal, node_id: uuid.UUID) -> dict[uuid.UUID, str]:
    found = await load(db, principal, node_id)
    rows = await db.execute(select(FieldValue.field_id, FieldValue.value).where(FieldValue.node_id == found.node.id))
    return {field_id: value for field_id, value in rows}  # noqa: C416 - rows, not pairs, for mypy


async def set_field_values(
    db: AsyncSession, principal: Principal, node_id: uuid.UUID, values: Mapping[uuid.UUID, str]
) -> dict[uuid.UUID, str]:
    """Set custom field values of a node (an empty value removes it); fields of its drive only."""
    found = await load(db, principal, node_id, "write")
    definitions = {
        row.id: row for row in (await db.execute(select(FieldDef).where(FieldDef.drive_id == found.drive.id))).scalars()
    }
    for field_id, raw in values.items():
        definition = definitions.get(field_id)
        if definition is None:
            raise Invalid(_("This drive has no such field."))
        value = _checked(definition, raw)
        await db.execute(delete(FieldValue).where(FieldValue.node_id == found.node.id, FieldValue.field_id == field_id))
        if value:
            db.add(FieldValue(org_id=principal.org_id, node_id=found.node.id, field_id=field_id, value=value))
    await db.flush()
    return await field_values(db, principal, node_id)


async def folder_properties(
    db: AsyncSession, principal: Principal, folder_id: uuid.UUID
) -> dict[uuid.UUID, dict[tuple[str, str], str]]:
    """The dead properties of a folder's entries (outside the trash), by node id, in one
    statement: a WebDAV listing of thousands asks for them all at once."""
    found = await load(db, principal, folder_id)
    rows = await db.execute(
        select(Property.node_id, Property.namespace, Property.name, Property.value)
        .join(Node, Node.id == Property.node_id)
        .where(Node.parent_id == found.node.id, Node.trashed_at.is_(None))
    )
    by_node: dict[uuid.UUID, dict[tuple[str, str], str]] = {}
    for node_id, namespace, name, value in rows:
        by_node.setdefault(node_id, {})[(namespace, name)] = value
    return by_node


async def properties(db: AsyncSession, principal: Principal, node_id: uuid.UUID) -> dict[tuple[str, str], str]:
    """A node's WebDAV dead properties: (namespace, name) -> the element's XML."""
    found = await load(db, principal, node_id)
    rows = await db.execute(
        select(Property.namespace, Property.name, Property.value).where(Property.node_id == found.node.id)
    )
    return {(ns, name): value for ns, name, value in rows}


async def change_properties(
    db: AsyncSession,
    principal: Principal,
    node_id: uuid.UUID,
    *,
    set_: Mapping[tuple[str, str], str] | None = None,
    remove: Sequence[tuple[str, str]] = (),
    lock_tokens: Collection[str] = (),
) -> None:
    """Set and remove dead properties together (PROPPATCH is all or nothing: the caller
    rolls back when this raises)."""
    found = await load(db, principal, node_id, "write")
    await locking.require_unlocked(db, found, lock_tokens)
    for namespace, name in [*remove, *(set_ or {})]:
        await db.execute(
            delete(Property).where(
                Property.node_id == found.node.id, Property.namespace == namespace, Property.name == name
            )
        )
    for (namespace, name), value in (set_ or {}).items():
        if len(namespace) > 1000 or len(name) > 255 or "\x00" in value:
            raise Invalid(_("This property cannot be stored."))
        db.add(Property(org_id=principal.org_id, node_id=found.node.id, namespace=namespace, name=name, value=value))
    await db.flush()


async def set_favourite(db: AsyncSession, principal: Principal, node_id: uuid.UUID, favourite: bool = True) -> None:
    found = await load(db, principal, node_id)
    existing = await db.scalar(
        select(Favourite).where(Favourite.user_id == principal.user_id, Favourite.node_id == found.node.id)
    )
    if favourite and existing is None:
        db.add(Favourite(org_id=principal.org_id, user_id=principal.user_id, node_id=found.node.id))
    elif not favourite and existing is not None:
        await db.delete(existing)
    await db.flush()


async def _still_reached(db: AsyncSession, principal: Principal, ids: list[uuid.UUID]) -> list[NodeInfo]:
    """The nodes among ``ids`` the principal still reaches (not trashed, not unshared), in order."""
    found: list[NodeInfo] = []
    for node_id in ids:
        try:
            reached = await load(db, principal, node_id)
        except NotFound:
            continue
        found.append(await node_info(db, reached))
    return found


async def favourites(db: AsyncSession, principal: Principal) -> list[NodeInfo]:
    rows = await db.execute(
        select(Favourite.node_id).where(Favourite.user_id == principal.user_id).order_by(Favourite.created_at.desc())
    )
    return await _still_reached(db, principal, list(rows.scalars()))


async def recent(db: AsyncSession, principal: Principal, limit: int = 20) -> list[NodeInfo]:
    """The files the principal opened or wrote last, most recent first."""
    rows = await db.execute(
        select(Recent.node_id).where(Recent.user_id == principal.user_id).order_by(Recent.at.desc()).limit(limit * 2)
    )
    return (await _still_reached(db, principal, list(rows.scalars())))[:limit]
