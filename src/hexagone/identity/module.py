"""The identity module's descriptor: always on (not subscribable), it provides sign-in,
the home page, accounts, spaces and the admin console, and installs the principal loader."""

from __future__ import annotations

from pathlib import Path

from hexagone.core import auth, shell
from hexagone.core.db import org_session
from hexagone.core.modules import Module
from hexagone.identity import api, api_admin, cli, policy, search  # noqa: F401 - policy registers ability rules
from hexagone.identity.oidc import models as oidc_models  # noqa: F401 - the OpenID provider's tables
from hexagone.identity.oidc import web as oidc_web
from hexagone.identity.oidc.bearer import principal_for_access_token
from hexagone.identity.service import exporting, load_principal
from hexagone.identity.service.users import set_locale
from hexagone.identity.web import account, admin, branding, spaces
from hexagone.identity.web import auth as auth_pages


async def _remember_language(principal: auth.Principal, lang: str) -> None:
    async with org_session(principal.org_id) as db:
        await set_locale(db, principal, lang)
        await db.commit()


def _setup() -> None:
    auth.install(load_principal, principal_for_access_token)
    shell.on_language_change(_remember_language)


MODULE = Module(
    name="identity",
    label="Identity",
    package_dir=Path(__file__).parent,
    subscribable=False,
    routes=[
        *auth_pages.ROUTES,
        *account.ROUTES,
        *branding.ROUTES,
        *spaces.ROUTES,
        *admin.ROUTES,
        *oidc_web.ROUTES,
    ],
    api_routers=[api.router, api_admin.router],
    search_providers=[search.people, search.spaces],
    cli=cli.app,
    export=exporting.export,
    models_module="hexagone.identity.models",
    setup=_setup,
)
