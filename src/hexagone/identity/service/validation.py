"""Free text a person types (names, descriptions, search terms) cleaned once, the same
way for every way in (pages, API, CSV import).

Control characters are never meant in a name or a search term (a line break or a tab is
read as a space), and PostgreSQL refuses the NUL character in text columns while SQLite
keeps it silently: they are dropped here, so that they reach neither the database (a
500) nor another person's screen. What is left must still be a valid name.
"""

from __future__ import annotations

import re

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from hexagone.core.db import like_escape
from hexagone.core.exceptions import Conflict, Invalid
from hexagone.core.i18n import gettext as _

_SPACING = re.compile(r"[\t\n\r]")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_CONTROL_BUT_LINES = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _one_line(value: str) -> str:
    return _CONTROL.sub("", _SPACING.sub(" ", value)).strip()


def clean_label(value: str, message: str, *, max_length: int = 200) -> str:
    """A required one-line label; ``message`` (already translated) says what is expected
    when nothing is left of it or it is too long."""
    value = _one_line(value)
    if not value or len(value) > max_length:
        raise Invalid(message)
    return value


def clean_text(value: str, *, max_length: int = 2000) -> str:
    """Optional multi-line text (a description): line breaks are kept."""
    value = _CONTROL_BUT_LINES.sub("", value).strip()
    if len(value) > max_length:
        raise Invalid(_("The text is too long (at most %(n)s characters).", n=max_length))
    return value


def clean_query(value: str, *, max_length: int = 200) -> str:
    """A search term or filter: optional, one line."""
    value = _one_line(value)
    if len(value) > max_length:
        raise Invalid(_("The search is too long (at most %(n)s characters).", n=max_length))
    return value


def like_pattern(query: str) -> str:
    """``%query%`` for a case-insensitive ``LIKE … ESCAPE '\\'`` where the person's
    ``%`` and ``_`` stay literal characters."""
    return f"%{like_escape(query.lower())}%"


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
