"""What the provider says about a user: the scopes an application may ask for and the
claims each one releases (in the ID token and at the userinfo endpoint)."""

from __future__ import annotations

from authlib.oauth2.rfc6749 import scope_to_list
from authlib.oidc.core import UserInfo
from sqlalchemy.orm import Session

from hexagone.core.i18n import N_
from hexagone.identity.models import Organisation, User

OPENID = "openid"
OFFLINE_ACCESS = "offline_access"  # refresh tokens are issued only with this scope
API = "api"  # access tokens open the JSON API under /api/v1 only with this scope

# Every scope, with the label the admin console shows (a msgid, translated there).
SCOPES: dict[str, str] = {
    OPENID: N_("Sign-in (OpenID Connect)"),
    "profile": N_("Name, language and organisation"),
    "email": N_("E-mail address"),
    OFFLINE_ACCESS: N_("Stay connected (refresh tokens)"),
    API: N_("Hexagone JSON API on the user's behalf"),
}
DEFAULT_SCOPES = (OPENID, "profile", "email", OFFLINE_ACCESS)

# Organisation claims released with the "profile" scope, beside the standard ones.
ORG_CLAIMS = ("org_id", "org_name", "org_role")
CLAIMS_SUPPORTED = [
    "sub",
    "iss",
    "aud",
    "exp",
    "iat",
    "auth_time",
    "nonce",
    "amr",
    "at_hash",
    "name",
    "preferred_username",
    "locale",
    "email",
    "email_verified",
    *ORG_CLAIMS,
]


def user_info(db: Session, user: User, scope: str) -> UserInfo:
    """The claims ``scope`` releases about ``user``.

    ``email_verified`` is true when the address is in one of the organisation's domains:
    the organisation owns those mailboxes, and no one chooses such an address for
    themselves.
    """
    org = db.get(Organisation, user.org_id)
    assert org is not None
    domain = user.email.rpartition("@")[2]
    standard = UserInfo(
        sub=str(user.id),
        name=user.display_name,
        preferred_username=user.email,
        locale=user.locale or org.default_locale,
        email=user.email,
        email_verified=domain in {d.name for d in org.domains},
    ).filter(scope)
    if "profile" in (scope_to_list(scope) or ()):
        standard.update(org_id=str(org.id), org_name=org.name, org_role=user.role)
    return standard
