"""Drive admin: the storage the organisation uses, its drive settings (quotas, versions
kept, trash period), and the quota of each drive.

Sizes are typed with their unit (``500 MB``, ``2 Go``) and shown back exactly; an empty
quota field means no limit (the organisation's, a default) or the default (a drive)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from hexagone.core.auth import Principal
from hexagone.core.db import org_session
from hexagone.core.exceptions import Invalid, ServiceError
from hexagone.core.formatting import exact_size
from hexagone.core.forms import field, kept_values, size
from hexagone.core.i18n import gettext as _
from hexagone.core.pages import done, form_endpoint, me, page_or_submit, render
from hexagone.core.web import admin_required
from hexagone.drive import service

PATH = "/drive/admin"
SIZE_FIELDS = ("quota_bytes", "user_quota_bytes", "space_quota_bytes")
COUNT_FIELDS = ("keep_versions", "keep_version_days", "trash_days")


def _size_text(value: int | None) -> str:
    return "" if value is None else exact_size(value)


async def _page(request: Request, error: ServiceError | None = None) -> Response:
    admin = me(request)
    async with org_session(admin.org_id) as db:
        total, drives = await service.org_usage(db, admin)
        rules = await service.settings(db)
    values = {name: _size_text(getattr(rules, name)) for name in SIZE_FIELDS}
    values |= {name: str(getattr(rules, name)) for name in COUNT_FIELDS}
    failed_drive = request.path_params.get("drive_id")
    if error is not None and failed_drive is None:
        values |= await kept_values(request, error, *SIZE_FIELDS, *COUNT_FIELDS)
    typed = (await kept_values(request, error, "quota"))["quota"] if failed_drive is not None else ""
    context = {
        "total": total,
        "drives": drives,
        "values": values,
        "failed_drive": failed_drive,
        "typed": typed,
        "size_text": _size_text,
    }
    return render(request, "drive/admin/storage.html", context, error)


def _whole(form: FormData, name: str, label: str) -> int:
    text = field(form, name, 20).strip()
    if not text.isdigit():
        raise Invalid(_("%(label)s: type a whole number, zero or more.", label=label))
    return int(text)


async def _save_settings(db: AsyncSession, admin: Principal, form: FormData, _params: Mapping[str, Any]) -> Response:
    sizes = {name: size(field(form, name, 40)) for name in SIZE_FIELDS}
    counts = {
        "keep_versions": _whole(form, "keep_versions", _("Versions kept per file")),
        "keep_version_days": _whole(form, "keep_version_days", _("Days a version is kept")),
        "trash_days": _whole(form, "trash_days", _("Days in the trash")),
    }
    await service.change_settings(db, admin, **sizes, **counts)
    return done(PATH, "drive_settings_saved")


async def _set_quota(db: AsyncSession, admin: Principal, form: FormData, params: Mapping[str, Any]) -> Response:
    await service.set_quota(db, admin, params["drive_id"], size(field(form, "quota", 40)))
    return done(PATH, "drive_quota_saved")


ROUTES = [
    Route("/admin", page_or_submit(admin_required, _save_settings, _page), methods=["GET", "POST"]),
    Route("/admin/drives/{drive_id:uuid}/quota", form_endpoint(admin_required, _set_quota, _page), methods=["POST"]),
]
