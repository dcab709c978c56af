"""The drive's page of the admin console (``/drive/admin``, for the organisation's
admins): the storage used, the organisation's drive settings, and each drive's quota.
What it does is in the drive service (:func:`~hexagone.drive.service.org_usage`,
:func:`~hexagone.drive.service.change_settings`, :func:`~hexagone.drive.service.set_quota`),
which checks the admin rule again.

``ROUTES`` are mounted under ``/drive``. The notices the page shows after a change are
registered here."""

from starlette.routing import BaseRoute

from hexagone.core import pages
from hexagone.core.i18n import N_
from hexagone.drive.admin import storage

ROUTES: list[BaseRoute] = [*storage.ROUTES]

pages.notices(
    {
        "drive_settings_saved": N_("The drive settings are saved."),
        "drive_quota_saved": N_("The drive's quota is saved."),
    }
)
