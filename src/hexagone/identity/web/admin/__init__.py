"""The admin console under /admin, for the organisation's admins only: one file per
concept (users, groups, spaces, guests, modules, branding, security, oidc, audit, usage);
other modules add their own tabs through their descriptor's ``admin_nav``.

Every page is wrapped in :func:`hexagone.core.web.admin_required` (anonymous visitors go to
the sign-in form, everyone else who is not an admin gets 403), and every service it calls
checks the same rule again, so the API and the CLI cannot get round it.
"""

from __future__ import annotations

from hexagone.identity.web.admin import audit, branding, groups, guests, modules, oidc, security, spaces, usage, users

ROUTES = [
    *usage.ROUTES,
    *users.ROUTES,
    *groups.ROUTES,
    *spaces.ROUTES,
    *guests.ROUTES,
    *modules.ROUTES,
    *branding.ROUTES,
    *security.ROUTES,
    *oidc.ROUTES,
    *audit.ROUTES,
]
