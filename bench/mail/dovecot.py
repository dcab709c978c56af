"""A throw-away Dovecot (Debian's ``dovecot-imapd``) for the IMAP comparison.

Everything lives under one temporary directory: the configuration (no ``/etc/dovecot``
file is read), ``base_dir``, ``state_dir``, the log, a passwd-file for passdb and userdb,
and the users' Maildirs. The master runs as root as in production and drops to the usual
``dovenull``/``dovecot`` users for login and internal processes; mail processes run as
``nobody``. Settings are Dovecot's defaults (indexes and cache on, ``fsync_mode =
optimized``, no full-text search plugin) except the limits that 1,000 simultaneous
connections from one user on one address need.
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import subprocess
from collections.abc import Iterable
from pathlib import Path

from messages import Message
from procs import wait_port

MAIL_USER = "nobody"
MAILDIR_FLAGS = {"\\Draft": "D", "\\Flagged": "F", "\\Answered": "R", "\\Seen": "S", "\\Deleted": "T"}

CONFIG = """\
instance_name = hexagone-bench-{port}
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:~/Maildir
default_process_limit = {limit}
default_client_limit = {clients}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {root}/passwd
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  client_limit = {clients}
}}
service auth {{
  client_limit = {clients}
}}
protocol imap {{
  mail_max_userip_connections = {clients}
}}
"""


class Dovecot:
    """``with Dovecot(root, port, {"user": "password"}) as d:`` starts it, stops it at exit."""

    def __init__(self, root: Path, port: int, users: dict[str, str], connections: int = 1000):
        self.root, self.port, self.users = root, port, users
        self.limit = connections + 100
        self.proc: subprocess.Popen[bytes] | None = None
        self.uid, self.gid = pwd.getpwnam(MAIL_USER).pw_uid, pwd.getpwnam(MAIL_USER).pw_gid

    @property
    def config(self) -> Path:
        return self.root / "dovecot.conf"

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def home(self, user: str) -> Path:
        return self.root / "home" / user

    def maildir(self, user: str) -> Path:
        return self.home(user) / "Maildir"

    def __enter__(self) -> Dovecot:
        for sub in ("run", "state", "home"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)
        os.chmod(self.root, 0o755)
        lines = [
            f"{user}:{{PLAIN}}{password}:{self.uid}:{self.gid}::{self.home(user)}::"
            for user, password in self.users.items()
        ]
        (self.root / "passwd").write_text("\n".join(lines) + "\n")
        for user in self.users:
            for sub in ("cur", "new", "tmp"):
                (self.maildir(user) / sub).mkdir(parents=True, exist_ok=True)
            self._chown(self.home(user))
        self.config.write_text(
            CONFIG.format(root=self.root, port=self.port, limit=self.limit, clients=2 * self.limit + 100)
        )
        log = (self.root / "dovecot.out").open("ab")
        self.proc = subprocess.Popen(
            ["dovecot", "-F", "-c", str(self.config)], stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        wait_port(self.port, self.proc, self.root / "dovecot.log")
        return self

    def __exit__(self, *_exc: object) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()

    def write_maildir(self, user: str, messages: Iterable[Message], folder: str = "INBOX") -> int:
        """Deliver the messages straight into a folder of the user's Maildir (``cur/``), as
        Dovecot's own LDA would leave them after a client read them: LF line endings, flags
        in the name, the internal date as the file's mtime, ``S=``/``W=`` sizes. Returns the count."""
        top = self.maildir(user) if folder == "INBOX" else self.maildir(user) / f".{folder}"
        for sub in ("cur", "new", "tmp"):
            (top / sub).mkdir(parents=True, exist_ok=True)
        if folder != "INBOX":
            (top / "maildirfolder").touch()
        self._chown(top)
        cur = top / "cur"
        count = 0
        for message in messages:
            data = message.data.replace(b"\r\n", b"\n")
            when = message.internal_date.timestamp()
            letters = "".join(sorted(MAILDIR_FLAGS[f] for f in message.flags))
            path = cur / f"{int(when)}.M{message.index}P1.bench,S={len(data)},W={len(message.data)}:2,{letters}"
            path.write_bytes(data)
            os.utime(path, (when, when))
            os.chown(path, self.uid, self.gid)
            count += 1
        return count

    def _chown(self, top: Path) -> None:
        for path in [top, *top.rglob("*")]:
            os.chown(path, self.uid, self.gid)
        for parent in top.parents:
            if parent == self.root.parent:
                break
            os.chmod(parent, 0o755)


def available() -> str | None:
    """Why Dovecot cannot run here, or None."""
    if shutil.which("dovecot") is None:
        return "dovecot is not installed (apt-get install dovecot-imapd)"
    if os.geteuid() != 0:
        return "Dovecot's master must start as root to switch to its service users"
    return None


def version() -> str:
    out = subprocess.run(["dovecot", "--version"], capture_output=True, text=True)
    return out.stdout.strip() or "?"
