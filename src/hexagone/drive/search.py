"""The drive's unified-search provider: files and folders whose name matches, or whose
current version's extracted text does (``drive_texts``, filled by the text-extraction
job), only where the policy lets the principal read them.

Candidates come from the drives the principal reaches whole (their own, their spaces')
and from the drives holding something shared with them; each is then loaded through the
service like any other access, so a file in the trash, under a trashed folder, or outside
what a share covers is never shown.
"""

from __future__ import annotations

from sqlalchemy import exists, false, or_, select

from hexagone.core.auth import Principal
from hexagone.core.db import org_session
from hexagone.core.exceptions import NotFound
from hexagone.core.i18n import gettext as _
from hexagone.core.modules import SearchHit
from hexagone.drive.models import Drive, ExtractedText, Node, Share
from hexagone.drive.service import NodeInfo, node, path_of
from hexagone.drive.service.access import grantee
from hexagone.drive.service.names import key

OVERFETCH = 3  # candidates read per hit wanted: some turn out unreachable


def _like(query: str) -> str:
    escaped = key(query).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


async def files(principal: Principal, query: str, limit: int) -> list[SearchHit]:
    query = " ".join(query.replace("\x00", "").split())[:200]  # one line, no NUL (the shell bounds it too)
    if not query:
        return []
    pattern = _like(query)
    async with org_session(principal.org_id) as db:
        whole = or_(
            Drive.owner_id == principal.user_id if not principal.is_guest else false(),
            Drive.space_id.in_(list(principal.space_ids)) if principal.space_ids else false(),
        )
        shared = select(Node.drive_id).join(Share, Share.node_id == Node.id).where(grantee(principal))
        drives = select(Drive.id).where(or_(whole, Drive.id.in_(shared)))
        text_matches = exists().where(
            ExtractedText.version_id == Node.current_version_id, ExtractedText.text.ilike(pattern, escape="\\")
        )
        candidates = (
            await db.execute(
                select(Node.id)
                .where(
                    Node.drive_id.in_(drives),
                    Node.parent_id.is_not(None),
                    Node.trashed_at.is_(None),
                    or_(Node.name_key.like(pattern, escape="\\"), text_matches),
                )
                .order_by(Node.modified_at.desc())
                .limit(limit * OVERFETCH)
            )
        ).scalars()
        hits = []
        for node_id in candidates:
            try:
                found = await node(db, principal, node_id)
                where = await path_of(db, principal, node_id)
            except NotFound:
                continue
            hits.append(_hit(found, where))
            if len(hits) == limit:
                break
    return hits


def _hit(found: NodeInfo, where: list[NodeInfo]) -> SearchHit:
    folders = "/".join(n.name for n in where[:-1] if n.name)
    if found.is_folder:
        return SearchHit(kind=_("Folder"), title=found.name, subtitle=folders, url=f"/drive/folders/{found.id}")
    return SearchHit(kind=_("File"), title=found.name, subtitle=folders, url=f"/drive/files/{found.id}")
