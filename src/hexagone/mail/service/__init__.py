"""The mail service: what the protocols, the webmail and other modules call.

``mailboxes`` (mailboxes, folders, grants), ``store`` (adding and changing messages),
``addresses`` (who an address reaches, who may send as whom), ``auth`` (IMAP/SMTP
sign-in and app passwords), ``mime`` parsing lives beside it in :mod:`hexagone.mail.mime`.
"""
