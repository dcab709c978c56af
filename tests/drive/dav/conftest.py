"""Fixtures of the drive's WebDAV tests: one organisation subscribed to the drive for the
whole module, and users made in it as each test needs."""

from __future__ import annotations

import pytest

from tests.drive.factories import make_drive_org
from tests.factories import TestOrg


@pytest.fixture(scope="module")
async def org(migrated: None) -> TestOrg:
    return await make_drive_org()
