"""Identity's commands: the demo organisation, organisations (create, export), users,
and the OpenID provider's applications and signing keys.

Every ``create`` command takes ``--json`` and then prints exactly one JSON object, for
scripts; otherwise it prints lines for people.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from hexagone.core.cli import JsonFlag, emit, registry, run
from hexagone.core.config import get_settings
from hexagone.core.db import system_session
from hexagone.core.exceptions import ServiceError
from hexagone.identity.models import OrgRole
from hexagone.identity.oidc.claims import DEFAULT_SCOPES
from hexagone.identity.oidc.keys import add_key, key_folder
from hexagone.identity.oidc.server import DISCOVERY_PATH
from hexagone.identity.oidc.service import register_client
from hexagone.identity.service.demo import DEMO_DOMAIN, ensure_demo
from hexagone.identity.service.exporting import export_by_domain
from hexagone.identity.service.orgs import create_org, org_by_domain
from hexagone.identity.service.users import create_user

app = typer.Typer()
org_app = typer.Typer(help="Organisations.", no_args_is_help=True)
user_app = typer.Typer(help="Users.", no_args_is_help=True)
oidc_client_app = typer.Typer(
    help="Applications that sign people in with Hexagone (OpenID Connect).", no_args_is_help=True
)
oidc_key_app = typer.Typer(help="The keys that sign ID tokens.", no_args_is_help=True)
app.add_typer(org_app, name="org")
app.add_typer(user_app, name="user")
app.add_typer(oidc_client_app, name="oidc-client")
app.add_typer(oidc_key_app, name="oidc-key")


@app.command()
def demo(ctx: typer.Context, as_json: JsonFlag = False) -> None:
    """Create the demo organisation if absent, and print its logins."""

    settings = get_settings()
    installed = registry(ctx)
    modules = [m.name for m in installed.subscribable]

    async def go() -> dict[str, Any]:
        async with system_session() as db:
            result = await ensure_demo(db, settings.demo_password, modules)
        for module in installed:
            if module.demo is not None and module.name in result.org.modules:
                await module.demo(result.org.id)
        return {
            "org_id": str(result.org.id),
            "domain": DEMO_DOMAIN,
            "created": result.created,
            "users": sorted(result.users),
            "password": settings.demo_password,
        }

    payload = run(go)
    lines = [
        f"Demo organisation “Démo” ({DEMO_DOMAIN}) {'created' if payload['created'] else 'ready'}.",
        f"Sign in at {settings.resolved_base_url}/login with one of:",
    ]
    lines += [f"  {email}" for email in payload["users"]]
    lines.append(f"password: {settings.demo_password}")
    emit(as_json, payload, "\n".join(lines))


@org_app.command("create")
def org_create(
    ctx: typer.Context,
    name: Annotated[str, typer.Option(help="Display name.")],
    domain: Annotated[str, typer.Option(help="Mail domain.")],
    as_json: JsonFlag = False,
) -> None:
    """Create an organisation with its first domain."""

    modules = [m.name for m in registry(ctx).subscribable]

    async def go() -> dict[str, Any]:
        async with system_session() as db:
            org = await create_org(db, name=name, domain=domain, modules=modules)
            await db.commit()
            return {"id": str(org.id), "name": org.name, "domain": org.primary_domain}

    payload = run(go)
    emit(as_json, payload, f"organisation {payload['name']} created ({payload['id']})")


@org_app.command("export")
def org_export(
    ctx: typer.Context,
    domain: Annotated[str, typer.Argument(help="The organisation's domain.")],
    path: Annotated[Path, typer.Argument(help="The zip file to write (must not exist).")],
    as_json: JsonFlag = False,
) -> None:
    """Write everything the organisation keeps (people, groups, spaces, mail…) to one zip file."""
    installed = registry(ctx)
    manifest = run(lambda: export_by_domain(installed, domain, path))
    payload = {**manifest, "path": str(path.resolve())}
    emit(as_json, payload, f"organisation {domain} exported to {payload['path']} ({', '.join(manifest['modules'])})")


@user_app.command("create")
def user_create(
    org: Annotated[str, typer.Option(help="The organisation's domain.")],
    email: Annotated[str, typer.Option(help="E-mail address (login).")],
    name: Annotated[str, typer.Option(help="Display name.")],
    admin: Annotated[bool, typer.Option("--admin", help="Organisation administrator.")] = False,
    as_json: JsonFlag = False,
) -> None:
    """Create a user. The password is read from standard input, or generated and printed."""

    password = None if sys.stdin is None or sys.stdin.isatty() else (sys.stdin.readline().rstrip("\r\n") or None)

    async def go() -> dict[str, Any]:
        async with system_session() as db:
            organisation = await org_by_domain(db, org)
            if organisation is None:
                raise ServiceError(f"no organisation has the domain {org}")
            user, generated = await create_user(
                db,
                org_id=organisation.id,
                email=email,
                display_name=name,
                password=password,
                role=OrgRole.ADMIN if admin else OrgRole.USER,
            )
            await db.commit()
            payload = {"id": str(user.id), "email": user.email, "role": user.role, "org_id": str(organisation.id)}
            if generated:
                payload["password"] = generated
            return payload

    payload = run(go)
    human = f"user {payload['email']} created" + (f"; password: {payload['password']}" if "password" in payload else "")
    emit(as_json, payload, human)


@oidc_client_app.command("create")
def oidc_client_create(
    org: Annotated[str, typer.Option(help="The organisation's domain.")],
    name: Annotated[str, typer.Option(help="The application's name.")],
    redirect_uri: Annotated[list[str], typer.Option("--redirect-uri", help="A redirect URI (repeat for several).")],
    post_logout_redirect_uri: Annotated[
        list[str] | None,
        typer.Option("--post-logout-redirect-uri", help="Where it may send people after sign-out (repeatable)."),
    ] = None,
    scope: Annotated[
        list[str] | None,
        typer.Option(
            "--scope", help="A scope it may ask for (repeatable); default: openid profile email offline_access"
        ),
    ] = None,
    public: Annotated[bool, typer.Option("--public", help="No secret; PKCE required (native or browser app).")] = False,
    as_json: JsonFlag = False,
) -> None:
    """Register an application of an organisation; prints its client_id and client_secret (shown once)."""

    async def go() -> dict[str, Any]:
        async with system_session() as db:
            organisation = await org_by_domain(db, org)
            if organisation is None:
                raise ServiceError(f"no organisation has the domain {org}")
            registered = await register_client(
                db,
                None,
                org_id=organisation.id,
                name=name,
                redirect_uris=redirect_uri,
                post_logout_redirect_uris=post_logout_redirect_uri or (),
                scopes=scope or DEFAULT_SCOPES,
                confidential=not public,
            )
            await db.commit()
            client = registered.client
            return {
                "id": str(client.id),
                "client_id": client.client_id,
                "client_secret": registered.secret,
                "name": client.name,
                "org_id": str(organisation.id),
                "public": client.is_public,
                "redirect_uris": client.redirect_uris,
                "scopes": client.scopes,
                "discovery_url": get_settings().resolved_base_url + DISCOVERY_PATH,
            }

    payload = run(go)
    lines = [f"application {payload['name']} registered", f"client_id: {payload['client_id']}"]
    if payload["client_secret"]:
        lines.append(f"client_secret: {payload['client_secret']}  (shown once)")
    lines.append(f"discovery: {payload['discovery_url']}")
    emit(as_json, payload, "\n".join(lines))


@oidc_key_app.command("rotate")
def oidc_key_rotate(as_json: JsonFlag = False) -> None:
    """Add a signing key, used from now on; older keys stay published until their file is deleted."""

    kid = add_key()
    folder = str(key_folder())
    emit(
        as_json,
        {"kid": kid, "folder": folder},
        f"new signing key {kid} in {folder}; delete an older key's file once the tokens it signed have expired",
    )
