"""Small helpers shared by the identity pages."""

from __future__ import annotations

import uuid

from starlette.datastructures import FormData
from starlette.requests import Request

from hexagone.core.exceptions import Invalid
from hexagone.core.i18n import gettext as _


def client_ip(request: Request) -> str:
    return request.client.host if request.client else ""


def field(form: FormData, name: str, max_length: int = 2000) -> str:
    value = form.get(name, "")
    if not isinstance(value, str):
        raise Invalid(_("The field %(name)s must be text.", name=name))
    if len(value) > max_length:
        raise Invalid(_("The field %(name)s is too long.", name=name))
    return value


def parse_uuid(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise Invalid(_("Invalid identifier.")) from None
