"""Who may do what with a registered application: its organisation's admins, all of it;
anyone else, nothing, not even know that it exists."""

from __future__ import annotations

from hexagone.core import policy
from hexagone.core.auth import Principal
from hexagone.identity.oidc.models import OidcClient


@policy.rule(OidcClient)
def client_abilities(principal: Principal, _client: OidcClient) -> dict[str, bool]:
    admin = principal.is_admin
    return {"view": admin, "edit": admin, "delete": admin}
