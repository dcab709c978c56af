"""The reader's mail settings: signature, vacation auto-reply, app passwords for mail
clients (the secret shown once), and delegation (colleagues who may open the mailbox).

The auto-reply is a Sieve ``vacation`` in the webmail's script, written from the fields
saved here (:func:`hexagone.mail.service.sieve.vacation_changed`); the page says when
that script does not run (edited by hand, or another one active).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from hexagone.core import audit
from hexagone.core.db import utcnow
from hexagone.core.exceptions import Invalid, NotFound, ServiceError
from hexagone.core.forms import field, required_uuid
from hexagone.core.i18n import gettext as _
from hexagone.core.pages import done, render
from hexagone.core.web import login_required
from hexagone.identity.service import person
from hexagone.mail.service import administration, auth, delegation, mailboxes, sieve
from hexagone.mail.web import changes
from hexagone.mail.web.access import Caller, caller
from hexagone.mail.web.common import navigation

SETTINGS_PATH = "/mail/settings"
MAX_SIGNATURE = 4000
MAX_VACATION_BODY = 10_000


async def _page(
    request: Request, c: Caller, *, error: ServiceError | None = None, secret: tuple[str, str] | None = None
) -> Response:
    mailbox = await c.own_mailbox()
    delegates = [(grant, who) for who, grant in await administration.members_of(c.db, mailbox)]
    context = {
        "mailbox": mailbox,
        "delegates": delegates,
        "secret": secret,
        "app_passwords": await auth.app_passwords(c.db, c.user.id),
        "mailboxes": await navigation(c),
        "rules": await sieve.webmail(c.db, mailbox),
        "webmail_script": sieve.WEBMAIL,
    }
    return render(
        request,
        "mail/settings.html",
        context,
        error,
    )


@login_required
async def settings_page(request: Request) -> Response:
    async with caller(request, write=True) as c:
        response = await _page(request, c)
        await c.db.commit()  # a first visit creates the mailbox
        return response


def _until(value: str) -> datetime | None:
    """The last day of the absence, as the end of that day (UTC)."""
    if not value:
        return None
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise Invalid(_("Give the end date as a date (YYYY-MM-DD).")) from None
    until = datetime.combine(day, time(23, 59, 59), tzinfo=UTC)
    if until < utcnow():
        raise Invalid(_("The end date is in the past."))
    return until


async def _signature(c: Caller, form: FormData) -> str:
    mailbox = await c.own_mailbox()
    mailbox.signature = field(form, "signature", MAX_SIGNATURE).replace("\r\n", "\n").strip("\n")
    return "saved"


async def _vacation(c: Caller, form: FormData) -> str:
    mailbox = await c.own_mailbox()
    enabled = field(form, "vacation_enabled", 2) == "1"
    subject = field(form, "vacation_subject", 300).strip()
    message = field(form, "vacation_body", MAX_VACATION_BODY).replace("\r\n", "\n").strip()
    if enabled and not message:
        raise Invalid(_("Write the message your correspondents will receive."))
    until = _until(field(form, "vacation_until", 10).strip())
    before = sieve.vacation_of(mailbox)
    mailbox.vacation_enabled, mailbox.vacation_subject, mailbox.vacation_body = enabled, subject, message
    mailbox.vacation_until = until
    await sieve.vacation_changed(c.db, mailbox, before)
    return "saved"


@login_required
async def save_signature(request: Request) -> Response:
    return await changes.apply(request, SETTINGS_PATH, _signature, _page)


@login_required
async def save_vacation(request: Request) -> Response:
    return await changes.apply(request, SETTINGS_PATH, _vacation, _page)


@login_required
async def create_app_password(request: Request) -> Response:
    """Shows the new secret on the page itself, once: it is stored only as a digest."""
    form = await request.form()
    async with caller(request, write=True) as c:
        try:
            row, secret = await auth.create_app_password(c.db, c.user, field(form, "label", 100))
        except Invalid as exc:
            return await _page(request, c, error=exc)
        audit.record(
            c.db,
            "mail.app_password_created",
            org_id=c.user.org_id,
            actor=c.principal,
            target_type="app_password",
            target_id=row.id,
            target_label=row.label,
        )
        await c.db.commit()
        return await _page(request, c, secret=(row.label, secret))


@login_required
async def revoke_app_password(request: Request) -> Response:
    async with caller(request, write=True) as c:
        app_password_id = request.path_params["app_password_id"]
        if not any(p.id == app_password_id for p in await auth.app_passwords(c.db, c.user.id)):
            raise NotFound(_("This app password does not exist."))
        await auth.revoke_app_password(c.db, c.user.id, app_password_id)
        audit.record(
            c.db,
            "mail.app_password_revoked",
            org_id=c.user.org_id,
            actor=c.principal,
            target_type="app_password",
            target_id=app_password_id,
        )
        await c.db.commit()
    return done(SETTINGS_PATH, "app_password_revoked")


@login_required
async def add_delegate(request: Request) -> Response:
    """Lets a member of the organisation open this mailbox (and write, send as it)."""
    form = await request.form()
    async with caller(request, write=True) as c:
        mailbox = await c.own_mailbox()
        try:
            await delegation.delegate(
                c.db,
                c.principal,
                await mailboxes.access_to(c.db, c.user, mailbox.id),
                field(form, "email", 320),
                can_write=field(form, "can_write", 2) == "1",
                can_send_as=field(form, "can_send_as", 2) == "1",
            )
        except Invalid as exc:
            return await _page(request, c, error=exc)
        await c.db.commit()
    return done(SETTINGS_PATH, "delegate_added")


@login_required
async def remove_delegate(request: Request) -> Response:
    form = await request.form()
    async with caller(request, write=True) as c:
        colleague = await person(c.db, required_uuid(form, "user"))
        if colleague is None:
            raise NotFound(_("This person does not exist, or you cannot see them."))
        mailbox = await c.own_mailbox()
        await delegation.undelegate(c.db, c.principal, await mailboxes.access_to(c.db, c.user, mailbox.id), colleague)
        await c.db.commit()
    return done(SETTINGS_PATH, "delegate_removed")


ROUTES = [
    Route("/settings", settings_page),
    Route("/settings/signature", save_signature, methods=["POST"]),
    Route("/settings/vacation", save_vacation, methods=["POST"]),
    Route("/settings/app-passwords", create_app_password, methods=["POST"]),
    Route("/settings/app-passwords/{app_password_id:uuid}/revoke", revoke_app_password, methods=["POST"]),
    Route("/settings/delegates", add_delegate, methods=["POST"]),
    Route("/settings/delegates/remove", remove_delegate, methods=["POST"]),
]
