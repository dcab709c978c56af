"""caldav-server-tester (the caldav library's own conformance probe) against the server:
the checks below (chosen to run in seconds; the full run is quoted in
docs/calendar-dav.md) find every feature the server claims fully supported."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from tests.conftest import Server
from tests.factories import TestOrg, make_user

# Its own environment (tests/tools-requirements.txt): it needs caldav 3, the project pins caldav 1.
TESTER = Path(__file__).resolve().parents[3] / ".venv-tools" / "bin" / "caldav-server-tester"
CHECKS = (
    "CheckGetCurrentUserPrincipal",
    "CheckMakeDeleteCalendar",
    "CheckPutEtag",
    "CheckNoUidConflict",
    "CheckSyncToken",
    "CheckSyncTokenLimit",
    "CheckFreeBusyQuery",
    "CheckSearch",
    "CheckIsNotDefined",
    "CheckSubstringSearch",
    "CheckCalendarProperties",
    "CheckPrincipalSearch",
)
EXPECTED_FULL = {
    "create-calendar",
    "create-calendar.set-displayname",
    "delete-calendar",
    "save.no-uid-conflict",
    "sync-token",
    "sync-token.delete",
    "sync-token.limit",
    "freebusy-query",
    "search.time-range.event",
    "search.text.substring",
    "search.is-not-defined",
    "calendar-color",
    "principal-search",
}


async def test_caldav_server_tester_finds_the_claimed_features(server: Server, org: TestOrg) -> None:
    user = await make_user(org)
    command = [str(TESTER), "--caldav-url", server.base_url + "/calendar/dav/"]
    command += ["--caldav-username", user.email, "--caldav-password", user.password, "--format", "text", "--verbose"]
    for check in CHECKS:
        command += ["--run-checks", check]
    run = subprocess.run(command, capture_output=True, text=True, timeout=120)
    found = dict(re.findall(r"## (\S+)\nFeature support level found: (\S+)", run.stdout))
    assert {name: found.get(name) for name in EXPECTED_FULL} == dict.fromkeys(EXPECTED_FULL, "full"), run.stderr[-3000:]
