"""Home and the user's own account: profile, language, sessions, two-step verification."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from hexagone.core import auth, shell, templating
from hexagone.core.auth import Principal
from hexagone.core.db import org_session
from hexagone.core.exceptions import Invalid
from hexagone.core.forms import field, parse_uuid
from hexagone.core.web import login_required, principal_of
from hexagone.identity.service import mfa, spaces, users


def _me(request: Request) -> Principal:
    principal = principal_of(request)
    assert principal is not None
    return principal


@login_required
async def home(request: Request) -> Response:
    principal = _me(request)
    async with org_session(principal.org_id) as db:
        my_spaces = await spaces.visible_spaces(db, principal)
    panels = await shell.home_panels(principal)
    return templating.render(request, "identity/home.html", {"spaces": my_spaces, "panels": panels})


@login_required
async def profile(request: Request) -> Response:
    principal = _me(request)
    error = None
    async with org_session(principal.org_id) as db:
        if request.method == "POST":
            form = await request.form()
            try:
                await users.update_profile(
                    db, principal, display_name=field(form, "display_name", 200), locale=field(form, "locale", 8)
                )
                await db.commit()
                return RedirectResponse("/account?saved=1", status_code=303)
            except Invalid as exc:
                error = exc.message
        user = await users.get_user(db, principal.user_id)
    return templating.render(
        request,
        "identity/account.html",
        {"user": user, "error": error, "saved": request.query_params.get("saved")},
        status_code=400 if error else 200,
    )


@login_required
async def sessions_page(request: Request) -> Response:
    principal = _me(request)
    async with org_session(principal.org_id) as db:
        if request.method == "POST":
            form = await request.form()
            target = field(form, "session_id", 64)
            if target == "others":
                await auth.revoke_all_sessions(db, principal.user_id, except_id=principal.session_id)
            else:
                await auth.revoke_session(db, parse_uuid(target), principal.user_id)
            await db.commit()
            return RedirectResponse("/account/sessions", status_code=303)
        rows = await auth.active_sessions(db, principal.user_id)
    return templating.render(request, "identity/sessions.html", {"sessions": rows})


@login_required
async def mfa_page(request: Request) -> Response:
    principal = _me(request)
    context: dict[str, object] = {}
    status = 200
    async with org_session(principal.org_id) as db:
        if request.method == "POST":
            form = await request.form()
            action = field(form, "action", 20)
            try:
                if action == "confirm":
                    context["recovery_codes"] = await mfa.confirm_enrolment(db, principal, field(form, "code", 40))
                    if principal.session_id is not None:
                        await auth.mark_mfa_verified(db, principal.session_id)
                elif action == "regenerate":
                    context["recovery_codes"] = await mfa.regenerate_recovery_codes(db, principal)
                elif action == "disable":
                    await mfa.disable(db, principal)
                else:
                    raise Invalid("unknown action")
                await db.commit()
            except Invalid as exc:
                context["error"] = exc.message
                status = 400
        user = await users.get_user(db, principal.user_id)
        if not user.mfa_enabled and "recovery_codes" not in context:
            secret, uri, qr = await mfa.begin_enrolment(db, principal)
            context.update(secret=secret, otpauth_uri=uri, qr=qr)
            await db.commit()
    context["user"] = user
    return templating.render(request, "identity/mfa.html", context, status_code=status)


ROUTES = [
    Route("/", home),
    Route("/account", profile, methods=["GET", "POST"]),
    Route("/account/sessions", sessions_page, methods=["GET", "POST"]),
    Route("/account/mfa", mfa_page, methods=["GET", "POST"]),
]
