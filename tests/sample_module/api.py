"""The sample module's JSON API, mounted at /api/v1/sample: a bearer token from our own
provider or the browser session, errors as ``{"error", "status"}``: the core API turns the
service's ``ServiceError`` into that body, so the routes let it through."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Response
from pydantic import BaseModel

from hexagone.core.api import CurrentPrincipal
from hexagone.core.db import org_session
from tests.sample_module import notes

router = APIRouter(tags=["sample"])


class NoteOut(BaseModel):
    id: uuid.UUID
    text: str


@router.get("/ping")
async def ping(principal: CurrentPrincipal) -> dict[str, str]:
    return {"module": "sample", "user": principal.email}


@router.get("/notes")
async def list_notes(principal: CurrentPrincipal) -> list[NoteOut]:
    """The caller's notes, newest first."""
    async with org_session(principal.org_id) as db:
        return [NoteOut(id=n.id, text=n.title) for n in await notes.list_notes(db, principal)]


@router.delete("/notes/{note_id}", status_code=204)
async def delete_note(note_id: uuid.UUID, principal: CurrentPrincipal) -> Response:
    """Delete one of the caller's notes (the permission rule decides)."""
    async with org_session(principal.org_id, write=True) as db:
        await notes.delete_note(db, principal, note_id)
        await db.commit()
    return Response(status_code=204)
