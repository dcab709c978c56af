"""The mail pages of the admin console (under ``/mail/admin``, for the organisation's
admins), and mail client autoconfiguration.

One file per concept: ``domains`` (the DNS records to publish), ``aliases``, ``shared``
(shared mailboxes and their members), ``quotas``, ``imports`` (from other IMAP servers),
``autoconfig`` (Thunderbird, Outlook, Apple). What the pages do is in the mail service
(:mod:`hexagone.mail.service.administration`, :mod:`hexagone.mail.service.dnsrecords`) and
:mod:`hexagone.mail.migration`, which check the admin rule again.

``ROUTES`` are mounted under ``/mail``; ``PUBLIC_ROUTES`` at the root, for anyone,
because mail clients ask for their settings at fixed paths before they have an account.
The notices these pages show after a change are registered here.
"""

from starlette.routing import BaseRoute

from hexagone.core import pages
from hexagone.core.i18n import N_
from hexagone.mail.admin import aliases, autoconfig, domains, imports, quotas, shared

ROUTES: list[BaseRoute] = [
    *domains.ROUTES,
    *aliases.ROUTES,
    *shared.ROUTES,
    *quotas.ROUTES,
    *imports.ROUTES,
    *autoconfig.ROUTES,
]
PUBLIC_ROUTES: list[BaseRoute] = [*autoconfig.PUBLIC_ROUTES]

pages.notices(
    {
        "alias_added": N_("The address is added."),
        "alias_removed": N_("The address is removed."),
        "shared_created": N_("The shared mailbox is created."),
        "member_set": N_("The member's access is saved."),
        "member_removed": N_("The member no longer has access."),
        "quota_saved": N_("The quota is saved."),
        "import_queued": N_("The import is queued: its progress shows below."),
    }
)
