"""Identity pages: sign-in, second factor, password reset, invitations, home, account
and the admin console. Thin: each handler parses the form and calls the service.

The notices the pages show after a change are registered here, once, for all of them."""

from hexagone.core import pages
from hexagone.core.i18n import N_

pages.notices(
    {
        "saved": N_("Saved."),
        "created": N_("Created."),
        "added": N_("Added."),
        "removed": N_("Removed."),
        "enabled": N_("The account is enabled."),
        "disabled": N_("The account is disabled: its sessions are closed."),
        "mfa_reset": N_("Two-step verification is reset: the person will set it up again."),
        "role_changed": N_("The role is changed."),
        "link_sent": N_("A link to choose a password has been sent."),
        "invited": N_("The invitation has been sent."),
        "revoked": N_("The invitation is revoked: its link no longer works."),
        "archived": N_("The space is archived."),
        "restored": N_("The space is restored."),
    }
)
