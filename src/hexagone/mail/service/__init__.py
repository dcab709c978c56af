"""The mail service: what the protocols, the webmail and other modules call.

``mailboxes`` (mailboxes, folders, grants), ``store`` (adding and changing messages),
``addresses`` (who an address reaches, who may send as whom), ``auth`` (IMAP/SMTP
sign-in and app passwords), ``mime`` parsing lives beside it in :mod:`hexagone.mail.mime`.
"""

# Mail's public face to other modules: nothing yet. The application reaches mail through
# its descriptor (hexagone/mail/module.py: pages, API, jobs, search, export, commands),
# which the core loads by name; no other module calls mail's services. A name another
# module needs goes here, stated deliberately (tests/core/test_layering.py checks it).
__all__: list[str] = []
