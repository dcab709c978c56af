"""Reading what a person posted: text fields with a length bound, identifiers, uploaded
files, and the values to put back in a form shown again after an error.

Every reader turns bad input into :class:`Invalid` (a 400 with its message), never into
a 500: a form is typed by people and forged by others.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator

from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request

from hexagone.core.exceptions import Invalid, ServiceError
from hexagone.core.i18n import gettext as _

MAX_FIELD = 2000
# The units a size is typed in, English and French, all of 1024 (as human_size shows them).
_SIZE_UNITS = {
    **dict.fromkeys(("b", "byte", "bytes", "o", "octet", "octets"), 1),
    **dict.fromkeys(("k", "kb", "kib", "ko"), 1024),
    **dict.fromkeys(("m", "mb", "mib", "mo"), 1024**2),
    **dict.fromkeys(("g", "gb", "gib", "go"), 1024**3),
    **dict.fromkeys(("t", "tb", "tib", "to"), 1024**4),
    **dict.fromkeys(("p", "pb", "pib", "po"), 1024**5),
}
_SIZE = re.compile(r"(\d{1,16}(?:[.,]\d{1,6})?)([a-z]*)")


def field(form: FormData | None, name: str, max_length: int = MAX_FIELD) -> str:
    """A text field of a posted form ('' when absent, or when there is no form)."""
    value = form.get(name, "") if form is not None else ""
    if not isinstance(value, str):
        raise Invalid(_("The field %(name)s must be text.", name=name))
    if len(value) > max_length:
        raise Invalid(_("The field %(name)s is too long.", name=name))
    if "\x00" in value:  # no database (PostgreSQL's text refuses it) nor file format keeps it
        raise Invalid(_("The field %(name)s must not contain NUL characters.", name=name))
    return value


def size(text: str) -> int | None:
    """A size a person typed, in bytes: a number and its unit (``500 MB``, ``1,5 Go``,
    ``2GiB``; spaces and case do not matter), or None when the field is empty. A number
    without its unit is refused (megabytes or gigabytes? a guess would be a silent
    mistake of a thousand times), except 0."""
    compact = re.sub(r"\s", "", text).lower()
    if not compact:
        return None
    found = _SIZE.fullmatch(compact)
    if found is None or (found.group(2) not in _SIZE_UNITS and found.group(2) != ""):
        raise Invalid(_("%(text)s is not a size: type a number and a unit, such as 500 MB or 2 GB.", text=text[:40]))
    number = float(found.group(1).replace(",", "."))
    if not found.group(2):
        if number != 0:
            raise Invalid(_("Give the unit of %(text)s, such as 500 MB or 2 GB.", text=text[:40]))
        return 0
    return round(number * _SIZE_UNITS[found.group(2)])


def parse_uuid(value: str) -> uuid.UUID:
    """An identifier from a form or a path (a path parameter may already be a UUID)."""
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise Invalid(_("Invalid identifier.")) from None


def required_uuid(form: FormData, name: str) -> uuid.UUID:
    return parse_uuid(field(form, name, 64))


async def upload(form: FormData, name: str, limit: int | None = None) -> bytes | None:
    """The bytes of an uploaded file, or None when the person chose no file; with
    ``limit``, a larger file is refused without reading more than the limit."""
    value = form.get(name)
    if not isinstance(value, UploadFile) or not value.filename:
        return None
    if limit is None:
        return await value.read()
    data = await value.read(limit + 1)
    if len(data) > limit:
        raise Invalid(_("The file is too large."))
    return data


async def pieces(upload: UploadFile, size: int = 1 << 20) -> AsyncIterator[bytes]:
    """An uploaded file's bytes a megabyte at a time, for a store that streams them."""
    while piece := await upload.read(size):
        yield piece


async def kept_values(request: Request, error: ServiceError | None, *names: str) -> dict[str, str]:
    """What the person typed, to fill the form again after an error (empty otherwise)."""
    if error is None or request.method != "POST":
        return dict.fromkeys(names, "")
    form = await request.form()
    return {name: value[:MAX_FIELD] if isinstance(value := form.get(name, ""), str) else "" for name in names}
