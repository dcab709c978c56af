"""The drive's part of an organisation's export (``hexagone org export``), and one drive's
export (``hexagone drive export``): files as they are, every version, and what the
files cannot say in a JSON index.

Under ``drive/`` each drive has a folder, ``users/<e-mail>/`` or ``spaces/<space id>/``,
holding:

- ``files/<path>``: the current content of every file outside the trash, in its folders;
- ``versions/<node id>/<number>``: every other version, and the versions of what is in the
  trash;
- ``nodes.json``: every folder and file (trash included) with its path, description,
  tags, custom field values, and its versions with their sizes, SHA-256 and archive paths.

``drives.json`` lists the drives with their quotas and custom field definitions. Blobs
are read from the store and written into the zip a chunk at a time.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hexagone.core import blobs
from hexagone.core.export import ExportWriter
from hexagone.drive.models import Drive, DriveKind, FieldDef, FieldValue, Node, NodeKind, Tag, Version
from hexagone.identity.service import people_by_ids

INDEX = "drives.json"


def _paths(nodes: list[Node], root_id: uuid.UUID) -> dict[uuid.UUID, str]:
    """Each node's path from the drive's root ("" for the root), parents being listed
    before children or not."""
    by_id = {n.id: n for n in nodes}
    paths: dict[uuid.UUID, str] = {root_id: ""}

    def path(node: Node) -> str:
        if node.id in paths:
            return paths[node.id]
        parent = by_id.get(node.parent_id) if node.parent_id else None
        above = path(parent) if parent is not None else ""
        paths[node.id] = f"{above}/{node.name}" if above else node.name
        return paths[node.id]

    for node in nodes:
        path(node)
    return paths


async def export_drive(db: AsyncSession, drive: Drive, writer: ExportWriter, folder: str) -> dict[str, Any]:
    """Write one drive under ``folder`` of the writer; returns its entry of ``drives.json``."""
    nodes = list((await db.execute(select(Node).where(Node.drive_id == drive.id))).scalars())
    ids = [n.id for n in nodes]
    versions: dict[uuid.UUID, list[Version]] = defaultdict(list)
    for version in (
        await db.execute(select(Version).where(Version.node_id.in_(ids)).order_by(Version.node_id, Version.number))
    ).scalars():
        versions[version.node_id].append(version)
    tags: dict[uuid.UUID, list[str]] = defaultdict(list)
    for node_id, label in await db.execute(select(Tag.node_id, Tag.label).where(Tag.node_id.in_(ids))):
        tags[node_id].append(label)
    values: dict[uuid.UUID, dict[str, str]] = defaultdict(dict)
    for node_id, field_id, value in await db.execute(
        select(FieldValue.node_id, FieldValue.field_id, FieldValue.value).where(FieldValue.node_id.in_(ids))
    ):
        values[node_id][str(field_id)] = value
    assert drive.root_id is not None
    paths = _paths(nodes, drive.root_id)
    trashed = _in_trash(nodes)
    store = blobs.get_store()
    listed = []
    for node in sorted(nodes, key=lambda n: paths[n.id]):
        if node.id == drive.root_id:
            continue
        entry: dict[str, Any] = {
            "id": node.id,
            "path": paths[node.id],
            "kind": node.kind,
            "description": node.description,
            "tags": sorted(tags[node.id]),
            "fields": values[node.id],
            "created_at": node.created_at,
            "modified_at": node.modified_at,
            "trashed_at": node.trashed_at,
            "in_trash": node.id in trashed,
            "versions": [],
        }
        for version in versions[node.id] if node.kind == NodeKind.FILE else []:
            live = version.id == node.current_version_id and node.id not in trashed
            name = f"files/{paths[node.id]}" if live else f"versions/{node.id}/{version.number}"
            await writer.write_stream(f"{folder}/{name}", await store.get(version.blob_key))
            entry["versions"].append(
                {
                    "number": version.number,
                    "current": version.id == node.current_version_id,
                    "size": version.size,
                    "sha256": version.sha256,
                    "content_type": version.content_type,
                    "created_at": version.created_at,
                    "file": name,
                }
            )
        listed.append(entry)
    writer.write_json(f"{folder}/nodes.json", listed)
    fields = (
        await db.execute(select(FieldDef).where(FieldDef.drive_id == drive.id).order_by(FieldDef.position))
    ).scalars()
    return {
        "folder": folder,
        "files": sum(1 for e in listed if e["kind"] == NodeKind.FILE),
        "versions": sum(len(e["versions"]) for e in listed),
        "kind": drive.kind,
        "space_id": drive.space_id,
        "quota_bytes": drive.quota_bytes,
        "used_bytes": drive.used_bytes,
        "fields": [
            {"id": f.id, "label": f.label, "kind": f.kind, "choices": f.choices.split("\n") if f.choices else []}
            for f in fields
        ],
    }


def _in_trash(nodes: list[Node]) -> set[uuid.UUID]:
    """The nodes in the trash themselves or under a folder that is."""
    by_id = {n.id: n for n in nodes}
    found: set[uuid.UUID] = set()
    for node in nodes:
        walk: Node | None = node
        while walk is not None:
            if walk.trashed_at is not None:
                found.add(node.id)
                break
            walk = by_id.get(walk.parent_id) if walk.parent_id else None
    return found


async def folder_of(db: AsyncSession, drive: Drive) -> str:
    if drive.kind == DriveKind.PERSONAL and drive.owner_id is not None:
        owner = (await people_by_ids(db, [drive.owner_id])).get(drive.owner_id)
        return f"users/{owner.email if owner else drive.owner_id}"
    return f"spaces/{drive.space_id}"


async def export_organisation(db: AsyncSession, _org_id: uuid.UUID, writer: ExportWriter) -> None:
    drives = list((await db.execute(select(Drive).order_by(Drive.created_at, Drive.id))).scalars())
    index = [await export_drive(db, drive, writer, await folder_of(db, drive)) for drive in drives]
    writer.write_json(INDEX, index)
