"""The JSON the core writes everywhere (bus messages, job payloads, exports): UUIDs and
dates become strings, so that readers receive JSON types. Its own small module because the
bus, the job queue and the export all need it and none should import another for it."""

from __future__ import annotations

import json
import uuid
from datetime import date, datetime
from typing import Any


def json_default(value: object) -> str:
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def encode(payload: dict[str, Any]) -> bytes:
    """Compact JSON bytes of a payload (a dict)."""
    if not isinstance(payload, dict):
        raise TypeError("a payload is a dict")
    return json.dumps(payload, default=json_default, ensure_ascii=False, separators=(",", ":")).encode()
