"""What the SMTP tests share: a DNS server and a remote mail server on loopback.

Every ``hexagone serve`` of the test session runs a job worker, and a queued message
may be delivered by any of them; so that they all route it the same way, the settings
that point at the test DNS server and the remote peer are put in the environment here,
at collection time, before any server starts (``tests/conftest.py`` passes the
environment on to every server).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.conftest import Server, free_port
from tests.identity.test_principal_cache import statements  # noqa: F401  (fixture: this process' SQL)
from tests.mail.smtp import dns_server
from tests.mail.smtp.helpers import wait_for_port
from tests.mail.smtp.sink import Sink

REMOTE_DOMAIN = "remote.test"
ZONE = dns_server.Zone()
DNS_PORT = dns_server.start(ZONE)
SINK_PORT = free_port()

os.environ.update(
    {
        "HEXAGONE_MAIL_DNS_SERVERS": f"127.0.0.1:{DNS_PORT}",
        "HEXAGONE_MAIL_MX_OVERRIDE": f"{REMOTE_DOMAIN}=127.0.0.1:{SINK_PORT}",
        "HEXAGONE_MAIL_RETRY_BASE_SECONDS": "1",
    }
)


@pytest.fixture(scope="session")
def zone() -> dns_server.Zone:
    return ZONE


@pytest.fixture(scope="session")
def sink() -> Iterator[Sink]:
    peer = Sink(SINK_PORT, Path(tempfile.mkdtemp(prefix="hexagone-sink-")))
    peer.start()
    yield peer
    peer.stop()


@pytest.fixture(scope="session")
def mail_server(server: Server) -> Server:
    """The session's server, once its SMTP and submission listeners accept connections."""
    wait_for_port(server.smtp_port)
    wait_for_port(server.submission_port)
    return server


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
