"""Mail's JSON API, mounted at ``/api/v1/mail`` (see docs/mail-api.md): the same
services and access rules as the webmail, for applications holding a token."""

from fastapi import APIRouter

from hexagone.mail.api import changing, reading

ROUTERS: list[APIRouter] = [reading.router, changing.router]
