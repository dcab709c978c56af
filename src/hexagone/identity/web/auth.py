"""Sign-in, second factor, sign-out, password reset and invitation acceptance."""

from __future__ import annotations

from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from hexagone.core import auth, templating
from hexagone.core.auth import SESSION_COOKIE
from hexagone.core.config import get_settings
from hexagone.core.db import org_session, system_session
from hexagone.core.exceptions import Invalid, NotFound, RateLimited
from hexagone.core.forms import field
from hexagone.core.i18n import gettext as _
from hexagone.core.web import principal_of, safe_next
from hexagone.identity.service import login as login_service
from hexagone.identity.service import mfa, tokens


def client_ip(request: Request) -> str:
    """The address the sign-in throttle and the audit log record."""
    return request.client.host if request.client else ""


def _set_session_cookie(response: Response, token: str) -> None:
    settings = get_settings()
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=settings.session_max_age_seconds,
        httponly=True,
        samesite="lax",
        secure=settings.resolved_base_url.startswith("https://"),
        path="/",
    )


async def login_page(request: Request) -> Response:
    next_url = safe_next(request.query_params.get("next"))
    principal = principal_of(request)
    if request.method == "GET":
        if principal is not None and not principal.mfa_pending:
            return RedirectResponse(next_url, status_code=303)
        return templating.render(request, "identity/login.html", {"next": next_url, "email": ""})
    form = await request.form()
    email = field(form, "email", 320)
    password = field(form, "password", 1024)
    next_url = safe_next(field(form, "next", 2000))
    if not email or not password:
        return templating.render(
            request,
            "identity/login.html",
            {"next": next_url, "email": email, "error": _("Enter your e-mail address and password.")},
            status_code=400,
        )
    try:
        async with system_session() as db:
            result = await login_service.login(
                db,
                get_settings(),
                email=email,
                password=password,
                ip=client_ip(request),
                user_agent=request.headers.get("user-agent", ""),
                current_token=request.cookies.get(SESSION_COOKIE, ""),
            )
    except (Invalid, RateLimited) as exc:
        status = 429 if isinstance(exc, RateLimited) else 400
        return templating.render(
            request, "identity/login.html", {"next": next_url, "email": email, "error": exc.message}, status_code=status
        )
    target = f"/login/mfa?next={quote(next_url)}" if result.needs_second_factor else next_url
    response = RedirectResponse(target, status_code=303)
    _set_session_cookie(response, result.session_token)
    return response


async def second_factor_page(request: Request) -> Response:
    principal = principal_of(request)
    next_url = safe_next(request.query_params.get("next"))
    if principal is None:
        return RedirectResponse("/login", status_code=303)
    if not principal.mfa_pending:
        return RedirectResponse(next_url, status_code=303)
    if request.method == "GET":
        return templating.render(request, "identity/login_mfa.html", {"next": next_url})
    form = await request.form()
    next_url = safe_next(field(form, "next"))
    try:
        async with org_session(principal.org_id) as db:
            ok = await mfa.verify_second_factor(
                db, get_settings(), principal, field(form, "code", 40), client_ip(request)
            )
            if ok:
                assert principal.session_id is not None
                token = await auth.rotate_session(db, principal.session_id, mfa_verified=True)
            await db.commit()
    except RateLimited as exc:
        return templating.render(
            request, "identity/login_mfa.html", {"next": next_url, "error": exc.message}, status_code=429
        )
    if not ok:
        return templating.render(
            request,
            "identity/login_mfa.html",
            {"next": next_url, "error": _("This code is not valid.")},
            status_code=400,
        )
    response = RedirectResponse(next_url, status_code=303)
    _set_session_cookie(response, token)
    return response


async def logout(request: Request) -> Response:
    principal = principal_of(request)
    if principal is not None and principal.session_id is not None:
        async with org_session(principal.org_id) as db:
            await auth.revoke_session(db, principal.session_id, principal.user_id)
            await db.commit()
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


async def forgot_password(request: Request) -> Response:
    if request.method == "GET":
        return templating.render(request, "identity/password_forgot.html", {})
    form = await request.form()
    async with system_session() as db:
        await tokens.request_password_reset(
            db, email=field(form, "email", 320), base_url=get_settings().resolved_base_url, ip=client_ip(request)
        )
        await db.commit()
    return templating.render(request, "identity/password_forgot.html", {"sent": True})


async def reset_password(request: Request) -> Response:
    token = request.path_params["token"]
    async with system_session() as db:
        try:
            if request.method == "GET":
                await tokens.check_reset_token(db, token)
                return templating.render(request, "identity/password_reset.html", {})
            form = await request.form()
            password = field(form, "password", 1024)
            if password != field(form, "password_confirm", 1024):
                raise Invalid(_("The two passwords differ."))
            await tokens.reset_password(db, token=token, password=password, ip=client_ip(request))
            await db.commit()
        except NotFound as exc:
            return templating.render(request, "identity/password_reset.html", {"expired": exc.message}, status_code=404)
        except Invalid as exc:
            return templating.render(request, "identity/password_reset.html", {"error": exc.message}, status_code=400)
    return templating.render(request, "identity/password_reset.html", {"done": True})


async def accept_invitation(request: Request) -> Response:
    token = request.path_params["token"]
    async with system_session() as db:
        try:
            invitation = await tokens.live_invitation(db, token)
            if request.method == "GET":
                return templating.render(request, "identity/invitation.html", {"email": invitation.email})
            form = await request.form()
            password = field(form, "password", 1024)
            if password != field(form, "password_confirm", 1024):
                raise Invalid(_("The two passwords differ."))
            await tokens.accept_invitation(
                db, token=token, display_name=field(form, "name", 200), password=password, ip=client_ip(request)
            )
            await db.commit()
        except NotFound as exc:
            return templating.render(request, "identity/invitation.html", {"expired": exc.message}, status_code=404)
        except Invalid as exc:
            return templating.render(
                request, "identity/invitation.html", {"email": invitation.email, "error": exc.message}, status_code=400
            )
    return RedirectResponse("/login", status_code=303)


ROUTES = [
    Route("/login", login_page, methods=["GET", "POST"]),
    Route("/login/mfa", second_factor_page, methods=["GET", "POST"]),
    Route("/logout", logout, methods=["POST"]),
    Route("/password/forgot", forgot_password, methods=["GET", "POST"]),
    Route("/password/reset/{token}", reset_password, methods=["GET", "POST"]),
    Route("/invitation/{token}", accept_invitation, methods=["GET", "POST"]),
]
