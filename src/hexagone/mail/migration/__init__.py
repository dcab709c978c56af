"""Migration and reversibility: importing mail from another IMAP server, an mbox or a
Maildir, and exporting mailboxes to mbox or Maildir.

- :mod:`.sources` — what a source is; :mod:`.imap` and :mod:`.files` read them.
- :mod:`.engine` — the resumable, idempotent copy into a mailbox (CLI and console alike).
- :mod:`.folders` — which of our folders a source folder goes to (special uses).
- :mod:`.formats` — flags, dates and names in mbox and Maildir files.
- :mod:`.export` — mailboxes to files.
- :mod:`.jobs` — imports started from the admin console, run by the job worker.
"""

from __future__ import annotations

from pathlib import Path

from hexagone.core.i18n import gettext as _
from hexagone.mail.migration.files import MaildirSource, MboxSource
from hexagone.mail.migration.imap import ImapSource, parse_url
from hexagone.mail.migration.sources import Source, SourceError

SCHEMES = ("imaps://", "imap://", "mbox:", "maildir:")


def open_source(spec: str, password: str | None = None, *, insecure: bool = False) -> Source:
    """``imaps://login@host[:port]``, ``imap://…``, ``mbox:PATH`` or ``maildir:PATH``.
    Blocking (it connects and signs in): call it in a thread from async code."""
    spec = spec.strip()
    if spec.startswith(("imaps://", "imap://")):
        address = parse_url(spec)
        if not password:
            raise SourceError(_("The password of %(login)s on the other server is required.", login=address.login))
        return ImapSource(address, password, insecure=insecure)
    if spec.startswith("mbox:"):
        return MboxSource(Path(spec[5:]).expanduser())
    if spec.startswith("maildir:"):
        return MaildirSource(Path(spec[8:]).expanduser())
    raise SourceError(_("The source is imaps://login@host, imap://login@host, mbox:PATH or maildir:PATH."))
