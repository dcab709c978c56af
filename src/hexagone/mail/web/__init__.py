"""The webmail: folders and conversations, reading, writing, settings, mail rules. Server-rendered
pages (htmx and a small script enhance them; everything essential works without).

Each file is one family of pages; :mod:`access` is the only way they reach mail, through
the caller's own access. Routes are mounted under ``/mail/`` (the module is subscribable).
"""

from starlette.routing import BaseRoute

from hexagone.core import pages
from hexagone.core.i18n import N_
from hexagone.core.modules import NavItem
from hexagone.mail.web import actions, badge, compose, deleting, folders, reading, rules, settings, to_drive

ROUTES: list[BaseRoute] = [
    *folders.ROUTES,
    *deleting.ROUTES,
    *reading.ROUTES,
    *to_drive.ROUTES,
    *actions.ROUTES,
    *compose.ROUTES,
    *settings.ROUTES,
    *rules.ROUTES,
]
NAV: list[NavItem] = [NavItem(path="/mail/", label=N_("Mail"), icon="mail", badge=badge.unread, guests=False)]

pages.notices(
    {
        "sent": N_("Your message has been sent."),
        "sent_no_copy": N_("Your message has been sent, but your mailbox is full: no copy was kept in Sent."),
        "draft": N_("The draft is saved."),
        "discarded": N_("The draft is deleted."),
        "read": N_("Marked as read."),
        "unread": N_("Marked as unread."),
        "flagged": N_("Flagged."),
        "unflagged": N_("Flag removed."),
        "moved": N_("Moved."),
        "trashed": N_("Moved to the trash."),
        "deleted": N_("Deleted for good."),
        "emptied": N_("The trash is empty."),
        "folder_created": N_("The folder is created."),
        "folder_renamed": N_("The folder is renamed."),
        "folder_deleted": N_("The folder is deleted."),
        "folder_trashed": N_("The folder is in the trash."),
        "saved": N_("Saved."),
        "none": N_("Select at least one message first."),
        "images": N_("Images from this sender will always be shown."),
        "saved_to_drive": N_("The attachment is saved in your drive."),
        "delegate_added": N_("Access granted."),
        "delegate_removed": N_("Access removed."),
        "rules_active": N_("Your rules apply to new mail again."),
        "app_password_revoked": N_("The app password is revoked: the client using it is signed out."),
    }
)
