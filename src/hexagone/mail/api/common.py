"""What the mail API's routes share: the caller's session with their user row, the error
responses every route declares, and the paging cursor."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Annotated

from pydantic import AfterValidator
from sqlalchemy.ext.asyncio import AsyncSession

from hexagone.core.api import error_responses
from hexagone.core.auth import Principal
from hexagone.core.db import org_session
from hexagone.identity.service import Person
from hexagone.mail.models import Message

DESCRIBED = {
    400: "The body is not JSON, or a value is refused (an address, a message too large); the message says why.",
    403: "The mailbox is granted read-only, the folder is a standard one, the address may not be sent as, "
    "or the caller is a guest (no mailbox).",
    409: "A folder of that name exists.",
    413: "The request body is too large.",
}


def errors(*statuses: int) -> dict[int | str, dict[str, object]]:
    """The error responses of a mail route, beside the 401/403/404 every API route declares."""
    return error_responses(DESCRIBED, *statuses)


@asynccontextmanager
async def session(principal: Principal, *, write: bool = False) -> AsyncIterator[tuple[AsyncSession, Person]]:
    """The caller's organisation-scoped session and the person they are (a service's
    refusal becomes the API's error body in :mod:`hexagone.core.api`); ``write`` for a
    transaction that reads then writes (see ``org_session``)."""
    async with org_session(principal.org_id, write=write) as db:
        yield db, Person.signed_in(principal)


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# "<microseconds since 1970>-<UID>": every string of this shape is a valid position (17
# digits stay below the year 5000), so a cursor is either refused by the schema or used.
CURSOR_PATTERN = r"^[0-9]{1,17}-[0-9]{1,18}$"


def cursor_of(message: Message) -> str:
    """The cursor after ``message``: its arrival date and UID, the keys of the order."""
    delta = message.internal_date - EPOCH
    return f"{delta // timedelta(microseconds=1)}-{message.uid}"


def parse_cursor(cursor: str) -> tuple[datetime, int] | None:
    """The (date, UID) of a cursor that matched :data:`CURSOR_PATTERN`; None for none."""
    if not cursor:
        return None
    micros, _dash, uid = cursor.partition("-")
    return EPOCH + timedelta(microseconds=int(micros)), int(uid)


def no_surrogates(value: str) -> str:
    """Refuse text with lone UTF-16 surrogates (JSON can carry them; no database or
    e-mail header can store them)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("text must be valid Unicode (no lone surrogates)") from None
    return value


Text = Annotated[str, AfterValidator(no_surrogates)]
