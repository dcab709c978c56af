"""Free text a person types (names, descriptions, search terms) checked once, the same way
for every way in (pages, API, CSV import).

PostgreSQL refuses the NUL character in text columns and SQLite keeps it silently; control
characters in a one-line name are never meant. Refusing them here turns what would be a
database error (a 500) into a message the person can act on.
"""

from __future__ import annotations

import re

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from hexagone.core.exceptions import Conflict, Invalid
from hexagone.core.i18n import gettext as _

_ONE_LINE_FORBIDDEN = re.compile(r"[\x00-\x1f\x7f]")
_MULTILINE_FORBIDDEN = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def clean_label(value: str, message: str, *, max_length: int = 200) -> str:
    """A required one-line label, stripped; ``message`` (already translated) says what is
    expected when it is empty, too long or holds control characters."""
    value = value.strip()
    if not value or len(value) > max_length or _ONE_LINE_FORBIDDEN.search(value):
        raise Invalid(message)
    return value


def clean_text(value: str, *, max_length: int = 2000) -> str:
    """Optional multi-line text (a description), stripped."""
    value = value.strip()
    if len(value) > max_length:
        raise Invalid(_("The text is too long (at most %(n)s characters).", n=max_length))
    if _MULTILINE_FORBIDDEN.search(value):
        raise Invalid(_("The text holds characters that cannot be stored."))
    return value


def clean_query(value: str, *, max_length: int = 200) -> str:
    """A search term or filter: optional, one line. Control characters match nothing
    anyone typed, so they are dropped rather than refused."""
    value = _ONE_LINE_FORBIDDEN.sub("", value).strip()
    if len(value) > max_length:
        raise Invalid(_("The search is too long (at most %(n)s characters).", n=max_length))
    return value


def like_pattern(query: str) -> str:
    """``%query%`` for a case-insensitive ``LIKE … ESCAPE '\\'`` where the person's
    ``%`` and ``_`` stay literal characters."""
    escaped = query.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


async def add_unique(db: AsyncSession, row: object, conflict_message: str) -> None:
    """Insert ``row`` whose unique column (an e-mail address, a domain) is unique across
    organisations. An org-scoped session cannot see the other organisations' rows, so
    checking first is not enough: the database's refusal becomes a Conflict, in a
    savepoint so that the caller's transaction goes on."""
    try:
        async with db.begin_nested():
            db.add(row)
            await db.flush()
    except IntegrityError:
        raise Conflict(conflict_message) from None
