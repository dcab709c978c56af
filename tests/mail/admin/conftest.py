"""The imports page needs a server to import from: the migration tests' Dovecot."""

from tests.mail.migration.conftest import old_server  # noqa: F401 - the fixture, shared
