"""The identity module's descriptor: always on (not subscribable), it provides sign-in,
the home page, accounts, spaces and the admin console, and installs the principal loader.

Its pages, API and search are :class:`~hexagone.core.modules.Lazy`: imported when the app
is built, not by every ``hexagone`` command."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from hexagone.core.modules import Lazy, Module, SearchProvider
from hexagone.identity import cli, policy  # noqa: F401 - policy registers ability rules
from hexagone.identity.oidc import models as oidc_models  # noqa: F401 - the OpenID provider's tables

if TYPE_CHECKING:
    from fastapi import APIRouter
    from starlette.routing import BaseRoute

    from hexagone.core.export import Exporter


def _routes() -> Sequence[BaseRoute]:
    from hexagone.identity.oidc import web as oidc_web
    from hexagone.identity.web import account, admin, auth, branding, spaces

    return [*auth.ROUTES, *account.ROUTES, *branding.ROUTES, *spaces.ROUTES, *admin.ROUTES, *oidc_web.ROUTES]


def _api_routers() -> Sequence[APIRouter]:
    from hexagone.identity import api, api_admin

    return [api.router, api_admin.router]


def _search_providers() -> Sequence[SearchProvider]:
    from hexagone.identity import search

    return [search.people, search.spaces]


def _export() -> Exporter:
    from hexagone.identity.service import exporting

    return exporting.export


def _setup() -> None:
    """Install the principal loader and remember a signed-in person's language choice."""
    from hexagone.core import auth, shell
    from hexagone.core.db import org_session
    from hexagone.identity.oidc.bearer import principal_for_access_token
    from hexagone.identity.service import load_principal
    from hexagone.identity.service.users import set_locale

    async def remember_language(principal: auth.Principal, lang: str) -> None:
        async with org_session(principal.org_id) as db:
            await set_locale(db, principal, lang)
            await db.commit()

    auth.install(load_principal, principal_for_access_token)
    shell.on_language_change(remember_language)


MODULE = Module(
    name="identity",
    label="Identity",
    package_dir=Path(__file__).parent,
    subscribable=False,
    routes=Lazy(_routes),
    api_routers=Lazy(_api_routers),
    search_providers=Lazy(_search_providers),
    cli=cli.app,
    export=Lazy(_export),
    models_module="hexagone.identity.models",
    setup=_setup,
)
