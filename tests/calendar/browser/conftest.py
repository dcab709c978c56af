"""The agenda's browser tests share the shell's browser fixtures (one chromium for the
session, a fresh context per tab)."""

from tests.browser.conftest import browser, open_tab  # noqa: F401 - fixtures, shared
