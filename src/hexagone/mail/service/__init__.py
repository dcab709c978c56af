"""The mail service: what the protocols, the webmail and other modules call.

``mailboxes`` (mailboxes, folders, grants), ``store`` (adding and changing messages),
``addresses`` (who an address reaches, who may send as whom), ``auth`` (IMAP/SMTP
sign-in and app passwords), ``mime`` parsing lives beside it in :mod:`hexagone.mail.mime`.
"""

# Mail's public face to other modules. The application reaches mail through its
# descriptor (hexagone/mail/module.py: pages, API, jobs, search, export, commands), which
# the core loads by name. A name another module needs goes here, stated deliberately
# (tests/core/test_layering.py checks it). The calendar sends invitations as the user who
# writes them (``submit``) and reads those that arrive (``DELIVERED_CALENDAR``, whose
# mailbox is whose: ``mailbox_owner``); it collects the addresses of sent mail
# (``SUBMITTED``, the event of a message a user sent); its CalDAV sign-in accepts the
# app passwords made for mail clients (``use_app_password``).
from hexagone.mail.service.auth import use_app_password
from hexagone.mail.service.delivery import DELIVERED_CALENDAR, mailbox_owner
from hexagone.mail.service.outbound import SUBMITTED, UnknownRecipients, submit

__all__ = ["DELIVERED_CALENDAR", "SUBMITTED", "UnknownRecipients", "mailbox_owner", "submit", "use_app_password"]
