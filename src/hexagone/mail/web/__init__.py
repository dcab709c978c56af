"""The webmail and the mail pages of the admin console."""

from starlette.routing import BaseRoute

from hexagone.core.modules import NavItem

ROUTES: list[BaseRoute] = []
NAV: list[NavItem] = []
