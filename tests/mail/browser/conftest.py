"""The webmail's browser tests share the shell's browser fixtures (one chromium for the
session, a fresh context per tab) and one mail workplace."""

from __future__ import annotations

import pytest

from tests.browser.conftest import browser, open_tab  # noqa: F401 - fixtures, shared
from tests.mail.browser.factories_webmail import MailWorkplace, make_mail_workplace


@pytest.fixture(scope="session")
async def mail_workplace() -> MailWorkplace:
    return await make_mail_workplace()
