"""The mail pages of the admin console, client autoconfiguration, and migration."""

from starlette.routing import BaseRoute

ROUTES: list[BaseRoute] = []
