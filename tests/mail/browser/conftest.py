"""The webmail's browser tests share one mail workplace (the browser fixtures are every
browser test's: ``tests/browser/fixtures.py``)."""

from __future__ import annotations

import pytest

from tests.mail.browser.factories_webmail import MailWorkplace, make_mail_workplace


@pytest.fixture(scope="session")
async def mail_workplace() -> MailWorkplace:
    return await make_mail_workplace()
