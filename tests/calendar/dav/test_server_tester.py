"""caldav-server-tester (the caldav library's own conformance probe) against the server:
the checks below (chosen to run in seconds; the full run is quoted in
docs/calendar-dav.md) find every feature the server claims fully supported."""

from __future__ import annotations

import json
import os
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
    "CheckScheduling",
    "CheckSchedulingDetails",
    "CheckFreeBusyQueryRFC6638",
    "CheckSchedulingInboxDelivery",
    "CheckScheduleTag",
    "CheckScheduleTagStablePartstat",
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
    "scheduling",
    "scheduling.mailbox",
    "scheduling.calendar-user-address-set",
    "scheduling.freebusy-query",
    "scheduling.mailbox.inbox-delivery",
    "scheduling.auto-schedule",
    "scheduling.schedule-tag",
    "scheduling.schedule-tag.stable-partstat",
}


async def test_caldav_server_tester_finds_the_claimed_features(server: Server, org: TestOrg, tmp_path: Path) -> None:
    """The scheduling checks need a second account (the attendee): a caldav config
    section given to the tester with --config-section."""
    user, attendee = await make_user(org), await make_user(org)
    config = tmp_path / "calendar.conf"
    second = {"url": server.base_url + "/calendar/dav/", "username": attendee.email, "password": attendee.password}
    config.write_text(json.dumps({"attendee": second}))
    command = [str(TESTER), "--caldav-url", server.base_url + "/calendar/dav/", "--config-section", "attendee"]
    command += ["--caldav-username", user.email, "--caldav-password", user.password, "--format", "text", "--verbose"]
    for check in CHECKS:
        command += ["--run-checks", check]
    environment = {**os.environ, "CALDAV_CONFIG_FILE": str(config)}
    run = subprocess.run(command, capture_output=True, text=True, timeout=240, env=environment)
    found = dict(re.findall(r"## (\S+)\nFeature support level found: (\S+)", run.stdout))
    assert {name: found.get(name) for name in EXPECTED_FULL} == dict.fromkeys(EXPECTED_FULL, "full"), run.stderr[-3000:]
