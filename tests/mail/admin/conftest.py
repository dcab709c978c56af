"""The imports page needs a server to import from: the migration tests' Dovecot; the
accessibility test needs the browser tests' chromium."""

from tests.browser.conftest import browser, open_tab  # noqa: F401 - the fixtures, shared
from tests.mail.migration.conftest import old_server  # noqa: F401 - the fixture, shared
