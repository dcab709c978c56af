"""Fixtures of more than one folder of the mail tests, defined once here: a conftest that
imports a session fixture from another defines it again, and each copy started its own."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.mail.migration.conftest import OldServer, running_old_server


@pytest.fixture(scope="session")
def old_server() -> Iterator[OldServer]:
    """A Dovecot to migrate from (``tests/mail/migration``, the admin's imports page)."""
    with running_old_server() as server:
        yield server
