"""What starting the ``hexagone`` command costs: every command and every test that runs
one pays it, so building the command imports the modules' commands and models only, never
their pages, API or protocol servers (``Lazy`` parts of the descriptors), nor Alembic."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.conftest import ROOT, server_env

# What the served parts of the core and of each module (the sample one of HEXAGONE_MODULES
# included) pull in; a command that needs one imports it when it runs.
SERVED = [
    "fastapi",
    "alembic",
    "hexagone.core.api",
    "hexagone.identity.web",
    "hexagone.identity.api",
    "hexagone.mail.web",
    "hexagone.mail.api",
    "hexagone.mail.imap",
    "hexagone.mail.smtp",
    "tests.sample_module.web",
    "tests.sample_module.api",
]


def test_command_start_imports_no_page_api_or_server_of_any_module() -> None:
    probe = "import json, sys, hexagone.cli; print(json.dumps(sorted(sys.modules)))"
    started = subprocess.run(
        [sys.executable, "-c", probe], env=server_env(), cwd=ROOT, capture_output=True, text=True, check=True
    )
    loaded = set(json.loads(started.stdout))
    assert "tests.sample_module.cli" in loaded  # the extra module's commands are there
    assert sorted(name for name in SERVED if name in loaded) == []
