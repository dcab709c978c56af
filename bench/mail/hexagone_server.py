"""Hexagone for the mail comparison, started the way ``bench/run.py`` starts it: a fresh
data directory (and a fresh PostgreSQL database with ``--database postgres``), ``hexagone
migrate`` and ``hexagone demo``, then ``hexagone serve`` with the IMAP, SMTP and submission
listeners on free loopback ports (the caller checks that each one answers: the mail
module may not have them all yet). The demo organisation's users are the mailboxes.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import time
from collections.abc import Iterable
from pathlib import Path

from dovecot import MAILDIR_FLAGS
from messages import Message
from procs import free_port, web

DOMAIN = "demo.hexagone.test"  # hexagone.identity.service.demo.DEMO_DOMAIN
PASSWORD = web.DEMO_PASSWORD
IMAP_USER = f"bob@{DOMAIN}"  # the big mailbox
IDLE_USER = f"alice@{DOMAIN}"  # the idle connections
SMTP_RECIPIENT = f"carol@{DOMAIN}"  # inbound SMTP


class Hexagone:
    def __init__(self, root: Path, database: str, pg_admin: str, listen_timeout: float = 30):
        self.root, self.database, self.pg_admin, self.listen_timeout = root, database, pg_admin, listen_timeout
        self.imap_port, self.smtp_port, self.submission_port, self.http_port = (free_port() for _ in range(4))
        self.stack = contextlib.ExitStack()
        self.server: web.Server | None = None
        self.env: dict[str, str] = {}

    @property
    def pid(self) -> int:
        assert self.server is not None
        return self.server.pid

    @property
    def log(self) -> Path:
        return self.root / "hexagone.log"

    def __enter__(self) -> Hexagone:
        try:
            db = self.stack.enter_context(web.database(self.database, self.pg_admin))
            data = self.root / "data"
            data.mkdir(parents=True, exist_ok=True)
            env = self.env = web.hexagone_env(data, db) | {
                "HEXAGONE_HTTP_PORT": str(self.http_port),
                "HEXAGONE_IMAP_PORT": str(self.imap_port),
                "HEXAGONE_SMTP_PORT": str(self.smtp_port),
                "HEXAGONE_SUBMISSION_PORT": str(self.submission_port),
                "HEXAGONE_MANAGESIEVE_PORT": str(free_port()),
            }
            web.prepare(env, self.log)
            argv = [web.HEXAGONE, "serve", "--port", str(self.http_port), "--workers", "1"]
            self.server = self.stack.enter_context(web.Server(argv, env, self.http_port, "/healthz", self.log))
        except BaseException:
            self.stack.close()
            raise
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stack.close()

    def import_maildir(self, user: str, messages: Iterable[Message], folder: str) -> tuple[float, int, str]:
        """Load ``messages`` into ``user``'s ``folder`` with ``hexagone mail import`` (the bulk
        loader) from a Maildir written here: the bytes as they are (CRLF), the flags in the
        file names, the internal date as the mtime. Returns the seconds the import took
        (writing the Maildir not counted), the messages written, and the command's output."""
        top = self.root / f"import-{folder}"
        cur = top / f".{folder}" / "cur"
        for sub in (top / "cur", top / "new", top / "tmp", cur, cur.parent / "new", cur.parent / "tmp"):
            sub.mkdir(parents=True, exist_ok=True)
        count = 0
        for message in messages:
            letters = "".join(sorted(MAILDIR_FLAGS[f] for f in message.flags))
            path = cur / f"{message.index:08d}.bench:2,{letters}"
            path.write_bytes(message.data)
            when = message.internal_date.timestamp()
            os.utime(path, (when, when))
            count += 1
        argv = [web.HEXAGONE, "mail", "import", "--user", user, "--from", f"maildir:{top}"]
        t0 = time.perf_counter()
        done = subprocess.run(argv, env=self.env, cwd=web.ROOT, capture_output=True, text=True, check=True)
        return time.perf_counter() - t0, count, (done.stdout + done.stderr).strip()
