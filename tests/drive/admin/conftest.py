"""The accessibility test needs the browser tests' chromium."""

from tests.browser.conftest import browser, open_tab  # noqa: F401 - the fixtures, shared
