"""A throw-away Dovecot (Debian's ``dovecot-imapd``) on loopback: the IMAP server mail is
imported from in the migration tests.

Everything lives in one temporary directory: the configuration (``/etc/dovecot`` is
never read), ``base_dir``, ``state_dir``, the log, a passwd-file for passdb and userdb,
a self-signed certificate, and the users' Maildirs. The master starts as root (as in
production, which Dovecot requires to switch users) and the mail processes run as
``nobody``. The special folders have Exchange's names ("Sent Items", "Deleted Items")
and are marked with RFC 6154 special uses, as Exchange does.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import pwd
import signal
import socket
import subprocess
import time
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.ports import free_port

MAIL_USER = "nobody"

CONFIG = """\
instance_name = hexagone-test-{imap_port}
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = yes
ssl_cert = <{root}/cert.pem
ssl_key = <{root}/key.pem
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:~/Maildir
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {root}/passwd
}}
namespace inbox {{
  inbox = yes
  separator = .
  mailbox "Sent Items" {{
    special_use = \\Sent
    auto = subscribe
  }}
  mailbox "Deleted Items" {{
    special_use = \\Trash
    auto = subscribe
  }}
  mailbox Drafts {{
    special_use = \\Drafts
    auto = subscribe
  }}
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {imap_port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {imaps_port}
    ssl = yes
  }}
}}
"""


def _self_signed(root: Path) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    (root / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (root / "key.pem").write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )


class Dovecot:
    """``Dovecot(root, {"login": "password"}).start()`` … ``.stop()``; ``config`` (a
    template like :data:`CONFIG`) for another layout of folders."""

    def __init__(self, root: Path, users: dict[str, str], config: str = CONFIG):
        self.root, self.users, self.config = root, users, config
        self.imap_port, self.imaps_port = free_port(), free_port()
        self.proc: subprocess.Popen[bytes] | None = None
        entry = pwd.getpwnam(MAIL_USER)
        self.uid, self.gid = entry.pw_uid, entry.pw_gid

    def home(self, user: str) -> Path:
        return self.root / "home" / user

    def start(self) -> Dovecot:
        for sub in ("run", "state", "home"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)
        for path in [self.root, *self.root.parents]:
            if path == Path("/"):
                break
            os.chmod(path, os.stat(path).st_mode | 0o055)  # the mail processes (nobody) walk down to the homes
        _self_signed(self.root)
        (self.root / "passwd").write_text(
            "".join(
                f"{user}:{{PLAIN}}{password}:{self.uid}:{self.gid}::{self.home(user)}::\n"
                for user, password in self.users.items()
            )
        )
        for user in self.users:
            self.home(user).mkdir(parents=True, exist_ok=True)
            os.chown(self.home(user), self.uid, self.gid)
        config = self.root / "dovecot.conf"
        config.write_text(self.config.format(root=self.root, imap_port=self.imap_port, imaps_port=self.imaps_port))
        self.proc = subprocess.Popen(
            ["dovecot", "-F", "-c", str(config)],
            stdout=(self.root / "dovecot.out").open("wb"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"dovecot exited: {(self.root / 'dovecot.out').read_text()}")
            try:
                for port in (self.imap_port, self.imaps_port):
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"dovecot did not listen: {(self.root / 'dovecot.log').read_text()}")

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
