"""The names of the roles in the reader's language, for the pages that show or choose
a role (members of a space, people of the organisation)."""

from __future__ import annotations

from hexagone.core.i18n import gettext as _
from hexagone.identity.models import OrgRole, SpaceRole


def role_labels() -> dict[str, dict[str, str]]:
    """The template context's ``space_roles`` and ``org_roles``."""
    return {
        "space_roles": {
            SpaceRole.OWNER: _("Owner"),
            SpaceRole.MANAGER: _("Manager"),
            SpaceRole.MEMBER: _("Member"),
            SpaceRole.READER: _("Reader"),
        },
        "org_roles": {OrgRole.ADMIN: _("Administrator"), OrgRole.USER: _("User"), OrgRole.GUEST: _("Guest")},
    }
