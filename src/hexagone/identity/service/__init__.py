"""The identity service: the only entry other modules may call.

Each concept has its own file (orgs, users, spaces, groups, login, mfa, tokens); this
package gathers what other modules need.
"""

import hexagone.identity.policy  # noqa: F401 - registers the ability rules these services enforce
from hexagone.identity.service.login import verify_credentials
from hexagone.identity.service.orgs import org_by_domain
from hexagone.identity.service.principals import load_principal

__all__ = ["load_principal", "org_by_domain", "verify_credentials"]
