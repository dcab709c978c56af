"""How often our IMAP answers are identical to Dovecot's, per item.

Starts a throw-away Dovecot and our server (a fresh SQLite database, as the tests do),
APPENDs every message of ``../shared/corpus/mail`` and the malformed ones of
``tests/mail/imap/differential/malformed.py`` and ``envelope_cases.py`` to both, sends both the same FETCH and
SEARCH commands and prints, per item, the share of identical answers::

    .venv/bin/python bench/mail/differential.py [--differences] [--json FILE]

``--differences`` also prints every answer that differs (ours, then Dovecot's).
"""

from __future__ import annotations

import argparse
import asyncio
import imaplib
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.conftest import DATA_DIR, Server, hexagone_command, server_env  # noqa: E402
from tests.conftest import ROOT as TESTS_ROOT  # noqa: E402
from tests.mail.imap.differential import harness  # noqa: E402
from tests.mail.migration.dovecot import Dovecot  # noqa: E402

LOGIN, PASSWORD = "diff@example.org", "differential-password"


async def _make_user() -> tuple[str, str]:
    from hexagone.core.db import dispose_engine
    from tests.mail.factories import make_mail_user

    user = await make_mail_user()
    await dispose_engine()
    return user.email, user.password


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--differences", action="store_true", help="print every answer that differs")
    parser.add_argument("--json", type=Path, help="write the figures to this file")
    args = parser.parse_args()
    mails = harness.messages()
    subprocess.run(hexagone_command("migrate"), env=server_env(), cwd=TESTS_ROOT, check=True, capture_output=True)
    root = Path(tempfile.mkdtemp(prefix="hx-differential-"))
    ours_server = Server().wait_ready()
    dovecot = Dovecot(root, {LOGIN: PASSWORD}).start()
    try:
        email, password = asyncio.run(_make_user())
        ours = imaplib.IMAP4("127.0.0.1", ours_server.imap_port, timeout=60)
        ours.login(email, password)
        theirs = imaplib.IMAP4("127.0.0.1", dovecot.imap_port, timeout=60)
        theirs.login(LOGIN, PASSWORD)
        harness.append_all(ours, mails)
        harness.append_all(theirs, mails)
        mine, dovecots = harness.compare_servers(ours, theirs, mails)
        figures = harness.summary(mine, dovecots, mails)
        if args.differences:
            for diff in harness.differences(mine, dovecots, mails):
                print(f"--- {diff.item} {diff.message}\n  ours:    {diff.ours!r}\n  dovecot: {diff.dovecot!r}")
        print(f"{len(mails)} messages")
        for item, (same, total) in figures.items():
            print(f"{item:<16} {same:>5}/{total:<5} {100 * same / max(total, 1):6.1f}% identical")
        if args.json:
            args.json.write_text(json.dumps({k: list(v) for k, v in figures.items()}, indent=2))
        ours.logout()
        theirs.logout()
    finally:
        dovecot.stop()
        ours_server.stop()
        shutil.rmtree(root, ignore_errors=True)
        shutil.rmtree(DATA_DIR, ignore_errors=True)


if __name__ == "__main__":
    main()
