"""The webmail: folders and conversations, reading, writing, settings. Server-rendered
pages (htmx and a small script enhance them; everything essential works without).

Each file is one family of pages; :mod:`access` is the only way they reach mail, through
the caller's own access. Routes are mounted under ``/mail/`` (the module is subscribable).
"""

from starlette.routing import BaseRoute

from hexagone.core.i18n import N_
from hexagone.core.modules import NavItem
from hexagone.mail.web import actions, badge, compose, deleting, folders, reading, settings

ROUTES: list[BaseRoute] = [
    *folders.ROUTES,
    *deleting.ROUTES,
    *reading.ROUTES,
    *actions.ROUTES,
    *compose.ROUTES,
    *settings.ROUTES,
    *badge.ROUTES,
]
NAV: list[NavItem] = [NavItem(path="/mail/", label=N_("Mail"), icon="mail", badge="/mail/unread", guests=False)]
