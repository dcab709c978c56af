"""A throw-away Postfix (Debian's ``postfix``) for the inbound SMTP comparison.

Its own ``config_directory``, ``queue_directory`` and ``data_directory`` live under one
temporary directory, so the machine's ``/etc/postfix`` and its mail queue are never
touched. smtpd listens on a loopback port; one domain is a virtual mailbox domain whose
recipients the ``virtual`` delivery agent writes into Maildirs (as ``nobody``), which is
Postfix's local delivery without a system account per user. Everything else is Postfix's
default, fsync included: cleanup fsyncs the queue file before smtpd answers 250, and the
virtual agent fsyncs each Maildir file before it moves it into ``new/``. No chroot (its
``/etc`` copies would be needed in the temporary queue directory).
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
from pathlib import Path

from procs import wait_port

MAIL_USER = "nobody"

MAIN_CF = """\
compatibility_level = 3.6
queue_directory = {root}/queue
data_directory = {root}/data
mail_owner = postfix
setgid_group = postdrop
myhostname = postfix-bench.localhost
mydomain = localhost
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
alias_maps =
alias_database =
biff = no
append_dot_mydomain = no
maillog_file = {root}/postfix.log
maillog_file_prefixes = {root}
virtual_mailbox_domains = {domain}
virtual_mailbox_base = {root}/vmail
virtual_mailbox_maps = inline:{{ {mailboxes} }}
virtual_uid_maps = static:{uid}
virtual_gid_maps = static:{gid}
"""

# Postfix's stock services (Debian's master.cf without its optional pipes), chroot off.
MASTER_CF = """\
127.0.0.1:{port} inet n - n - - smtpd
pickup     unix  n - n 60 1 pickup
cleanup    unix  n - n - 0 cleanup
qmgr       unix  n - n 300 1 qmgr
rewrite    unix  - - n - - trivial-rewrite
bounce     unix  - - n - 0 bounce
defer      unix  - - n - 0 bounce
trace      unix  - - n - 0 bounce
verify     unix  - - n - 1 verify
flush      unix  n - n 1000? 0 flush
proxymap   unix  - - n - - proxymap
proxywrite unix  - - n - 1 proxymap
smtp       unix  - - n - - smtp
relay      unix  - - n - - smtp
showq      unix  n - n - - showq
error      unix  - - n - - error
retry      unix  - - n - - error
discard    unix  - - n - - discard
local      unix  - n n - - local
virtual    unix  - n n - - virtual
anvil      unix  - - n - 1 anvil
scache     unix  - - n - 1 scache
postlog    unix-dgram n - n - 1 postlogd
"""


class Postfix:
    """``with Postfix(root, port, ["bench@bench.test"]) as p:`` starts it, stops it at exit."""

    def __init__(self, root: Path, port: int, recipients: list[str]):
        self.root, self.port, self.recipients = root, port, recipients
        entry = pwd.getpwnam(MAIL_USER)
        self.uid, self.gid = entry.pw_uid, entry.pw_gid

    @property
    def config_dir(self) -> Path:
        return self.root / "etc"

    def maildir(self, recipient: str) -> Path:
        return self.root / "vmail" / recipient

    @property
    def pid(self) -> int:
        """The master's pid (``postfix start`` runs it in the background)."""
        return int((self.root / "queue" / "pid" / "master.pid").read_text().split()[0])

    def delivered(self, recipient: str) -> int:
        """Messages the virtual agent has finished writing (moved into ``new/``)."""
        try:
            return sum(1 for _ in os.scandir(self.maildir(recipient) / "new"))
        except FileNotFoundError:
            return 0

    def queued(self) -> int:
        """Messages still in the queue (incoming, active or deferred)."""
        total = 0
        for sub in ("incoming", "active", "deferred"):
            for _dirpath, _dirs, files in os.walk(self.root / "queue" / sub):
                total += len(files)
        return total

    def __enter__(self) -> Postfix:
        for sub in ("etc", "queue"):  # postfix creates the rest (queue subdirectories, data_directory)
            (self.root / sub).mkdir(parents=True, exist_ok=True)
        vmail = self.root / "vmail"
        vmail.mkdir(exist_ok=True)
        os.chown(vmail, self.uid, self.gid)
        os.chmod(self.root, 0o755)
        domains = sorted({r.split("@", 1)[1] for r in self.recipients})
        mailboxes = ", ".join(f"{r}={r}/" for r in self.recipients)
        (self.config_dir / "main.cf").write_text(
            MAIN_CF.format(root=self.root, domain=" ".join(domains), mailboxes=mailboxes, uid=self.uid, gid=self.gid)
        )
        (self.config_dir / "master.cf").write_text(MASTER_CF.format(port=self.port))
        self._postfix("start")
        wait_port(self.port, None, self.root / "postfix.log")
        return self

    def __exit__(self, *_exc: object) -> None:
        self._postfix("stop", check=False)

    def _postfix(self, verb: str, check: bool = True) -> None:
        with (self.root / "postfix.out").open("ab") as out:
            subprocess.run(
                ["postfix", "-c", str(self.config_dir), verb], stdout=out, stderr=subprocess.STDOUT, check=check
            )


def available() -> str | None:
    """Why Postfix or smtp-source cannot run here, or None."""
    if shutil.which("postfix") is None:
        return "postfix is not installed (apt-get install postfix)"
    if shutil.which("smtp-source") is None:
        return "smtp-source is missing (it comes with Debian's postfix package)"
    if os.geteuid() != 0:
        return "Postfix's master must start as root"
    return None


def version() -> str:
    out = subprocess.run(["postconf", "-d", "-h", "mail_version"], capture_output=True, text=True)
    return out.stdout.strip() or "?"
