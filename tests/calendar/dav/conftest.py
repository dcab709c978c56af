"""Fixtures of the DAV tests: one organisation subscribed to calendar for the whole
module, and users made in it as each test needs."""

from __future__ import annotations

import pytest

from tests.calendar.factories import make_calendar_org
from tests.factories import TestOrg


@pytest.fixture(scope="module")
async def org(migrated: None) -> TestOrg:
    return await make_calendar_org()
