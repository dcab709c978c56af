"""The shell's browser tests: one organisation shared by the tests that mostly look. The
browser and its tabs (``browser``, ``open_tab``) are every browser test's, in
``tests/browser/fixtures.py``."""

from __future__ import annotations

import pytest

from tests.browser.factories_browser import Workplace, make_workplace


@pytest.fixture(scope="session")
async def workplace() -> Workplace:
    """One organisation shared by the tests that mostly look: creating users costs
    argon2 hashes, and what those tests do (their own sign-ins, a reset request, an
    invitation) changes nothing another test depends on."""
    return await make_workplace()
