"""Signing in a CalDAV/CardDAV client with HTTP Basic: the DAV kit's sign-in
(:class:`hexagone.core.dav.auth.BasicSignIn`: the account password, or a mail app
password, which an account with MFA must use) for the calendar module."""

from __future__ import annotations

from hexagone.core.dav.auth import BasicSignIn
from hexagone.identity.service import load_principal, verify_module_credentials
from hexagone.mail.service import use_app_password

CHANNEL = "caldav"

basic_principal = BasicSignIn(
    module="calendar",
    channel=CHANNEL,
    verify=verify_module_credentials,
    load_principal=load_principal,
    app_password=use_app_password,
)
