"""What the SMTP tests share besides the mail peers (``tests/mail/smtp/peers.py``, a
plugin of the whole session): a second server with tight limits."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.conftest import Server
from tests.identity.test_principal_cache import statements  # noqa: F401  (fixture: this process' SQL)
from tests.mail.smtp.helpers import wait_for_port


@pytest.fixture(scope="session")
def strict_server(start_server: Callable[..., Server]) -> Server:
    """A second server with tight limits: small messages (20,000 bytes), two connections
    per client at once and six a minute, loopback counted like any client, listening on
    every address (so that a client can come from off loopback)."""
    server = start_server(
        HEXAGONE_MAIL_LISTEN_HOST="0.0.0.0",
        HEXAGONE_SMTP_LIMIT_EXEMPT="",
        HEXAGONE_MAIL_MAX_MESSAGE_BYTES="20000",
        HEXAGONE_SMTP_MAX_CONNECTIONS_PER_CLIENT="2",
        HEXAGONE_SMTP_MAX_CONNECTIONS_PER_MINUTE="6",
    )
    wait_for_port(server.smtp_port)
    wait_for_port(server.submission_port)
    return server
