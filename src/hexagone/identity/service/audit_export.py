"""The audit log as an admin reads it: filters typed in a form, pages, and exports (CSV,
JSON) of exactly the entries the filters select.

Exports are themselves audited: who took a copy of the log, and of which part, is an
administrative fact like any other.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from hexagone.core import audit
from hexagone.core.auth import Principal
from hexagone.core.exceptions import Invalid
from hexagone.core.i18n import gettext as _
from hexagone.core.models import AuditEntry
from hexagone.identity.service.orgs import require_admin
from hexagone.identity.service.validation import clean_query

PAGE_SIZE = 50
EXPORT_LIMIT = 50_000
FORMATS = ("csv", "json")
COLUMNS = ("created_at", "actor", "action", "target_type", "target_id", "target", "ip", "details")
# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass(frozen=True)
class AuditFilter:
    action: str = ""  # prefix: "user." selects every user action
    actor: str = ""  # part of the actor's address
    since: date | None = None  # first day included
    until: date | None = None  # last day included

    @classmethod
    def parse(cls, params: Mapping[str, str]) -> AuditFilter:
        """From a query string; a malformed value is a clear Invalid, never ignored."""
        since = _parse_day(params.get("since", ""))
        until = _parse_day(params.get("until", ""))
        if since and until and until < since:
            raise Invalid(_("The end date comes before the start date."))
        return cls(
            action=clean_query(params.get("action", ""), max_length=80),
            actor=clean_query(params.get("actor", ""), max_length=320),
            since=since,
            until=until,
        )

    def as_params(self) -> dict[str, str]:
        """The filters as query parameters, for pagination and export links."""
        values = {"action": self.action, "actor": self.actor, "since": self.since, "until": self.until}
        return {name: str(value) for name, value in values.items() if value}


def _parse_day(value: str) -> date | None:
    value = value.strip()
    if not value:
        return None
    try:
        day = date.fromisoformat(value) if _DAY.match(value) else None
    except ValueError:
        day = None
    if day is None or not 1970 <= day.year <= 9998:
        raise Invalid(_("Dates are written YYYY-MM-DD."))
    return day


async def _entries(db: AsyncSession, flt: AuditFilter, *, limit: int, offset: int = 0) -> list[AuditEntry]:
    since = datetime.combine(flt.since, time.min, tzinfo=UTC) if flt.since else None
    until = datetime.combine(flt.until + timedelta(days=1), time.min, tzinfo=UTC) if flt.until else None
    return await audit.search(
        db, action=flt.action, actor=flt.actor, since=since, until=until, limit=limit, offset=offset
    )


@dataclass(frozen=True)
class AuditPage:
    entries: list[AuditEntry]
    number: int
    has_next: bool


async def read_page(db: AsyncSession, actor: Principal, flt: AuditFilter, number: int) -> AuditPage:
    require_admin(actor)
    found = await _entries(db, flt, limit=PAGE_SIZE + 1, offset=(number - 1) * PAGE_SIZE)
    return AuditPage(entries=found[:PAGE_SIZE], number=number, has_next=len(found) > PAGE_SIZE)


def _row(entry: AuditEntry) -> dict[str, Any]:
    return {
        "created_at": entry.created_at.isoformat(),
        "actor": entry.actor_label,
        "action": entry.action,
        "target_type": entry.target_type,
        "target_id": entry.target_id,
        "target": entry.target_label,
        "ip": entry.ip,
        "details": entry.details or {},
    }


def _csv_cell(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, sort_keys=True) if isinstance(value, dict) else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def to_csv(entries: list[AuditEntry]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(COLUMNS)
    for entry in entries:
        row = _row(entry)
        writer.writerow([_csv_cell(row[column]) for column in COLUMNS])
    return buffer.getvalue()


def to_json(entries: list[AuditEntry]) -> str:
    return json.dumps([_row(entry) for entry in entries], ensure_ascii=False, indent=1)


@dataclass(frozen=True)
class Export:
    content: str
    media_type: str
    filename: str


async def export(db: AsyncSession, actor: Principal, flt: AuditFilter, fmt: str) -> Export:
    """The filtered entries, newest first, up to EXPORT_LIMIT; the caller commits (the
    export's own audit entry)."""
    require_admin(actor)
    if fmt not in FORMATS:
        raise Invalid(_("Unknown export format."))
    entries = await _entries(db, flt, limit=EXPORT_LIMIT)
    audit.record(
        db,
        "audit.exported",
        org_id=actor.org_id,
        actor=actor,
        target_type="audit_log",
        details={"format": fmt, "entries": len(entries), "filters": {k: str(v) for k, v in asdict(flt).items() if v}},
    )
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    if fmt == "csv":
        return Export(to_csv(entries), "text/csv; charset=utf-8", f"audit-{stamp}.csv")
    return Export(to_json(entries), "application/json", f"audit-{stamp}.json")
