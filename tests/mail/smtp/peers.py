"""The mail peers every test that sends mail beyond the organisation needs: a DNS server
and a remote mail server on loopback (the outside recipient's), loaded as a plugin by
``tests/conftest.py`` so that the SMTP tests and the calendar's invitation tests share
one of each per test process (a fixture imported into two conftests would be two
fixtures, each binding the same port).

Every ``hexagone serve`` of the test session runs a job worker, and a queued message
may be delivered by any of them; so that they all route it the same way, the settings
that point at the test DNS server and the remote peer are put in the environment here,
at start-up, before any server starts (``tests/conftest.py`` passes the environment on
to every server).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import Server, free_port
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
