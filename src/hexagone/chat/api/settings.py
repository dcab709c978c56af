"""The organisation's chat rules, for its administrators."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field, StrictBool

from hexagone.chat import service
from hexagone.chat.api.common import errors
from hexagone.core.api import AdminPrincipal, session, whole

router = APIRouter(tags=["chat"])


class Rules(BaseModel):
    retention_days: whole(1, service.MAX_RETENTION_DAYS) | None = Field(  # type: ignore[valid-type]
        description="Messages older than this are deleted; null: kept for ever."
    )
    keep_history: StrictBool = Field(description="Edits and deletions keep the earlier text for the audit.")


@router.get("/settings", response_model=Rules, summary="The organisation's chat rules (administrators)")
async def get_rules(principal: AdminPrincipal) -> Rules:
    async with session(principal) as db:
        rules = await service.current_rules(db, principal.org_id)
    return Rules(retention_days=rules.retention_days, keep_history=rules.keep_history)


@router.put("/settings", response_model=Rules, responses=errors(400), summary="Change the chat rules (administrators)")
async def put_rules(principal: AdminPrincipal, body: Rules) -> Rules:
    async with session(principal, write=True) as db:
        rules = await service.change_rules(
            db, principal, retention_days=body.retention_days, keep_history=body.keep_history
        )
        await db.commit()
    return Rules(retention_days=rules.retention_days, keep_history=rules.keep_history)
