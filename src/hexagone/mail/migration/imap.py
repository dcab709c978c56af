"""Reading another IMAP server (Exchange, Dovecot, Gmail…) with imapclient.

``imaps://login@host[:993]`` connects over TLS; ``imap://login@host[:143]`` upgrades with
STARTTLS, and sends the password in clear only to a server on this machine (loopback)
that offers no STARTTLS. ``insecure`` accepts a certificate that cannot be verified (a
self-signed Exchange), for the person who knows the server. The password never appears
in the source's label, its errors, or the URL (a URL that carries one is refused).

Folders are opened read-only (EXAMINE) and bodies fetched with ``BODY.PEEK[]``: an
import never changes the source, not even its \\Seen flags.
"""

from __future__ import annotations

import contextlib
import ipaddress
import socket
import ssl
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import ParamSpec, TypeVar
from urllib.parse import unquote, urlsplit

from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientError, LoginError

from hexagone.core.i18n import gettext as _
from hexagone.mail.migration.sources import Entry, SourceError, SourceFolder, SourceMessage, SourceUnavailable
from hexagone.mail.service.store import SYSTEM_FLAGS

TIMEOUT = 120.0
SKIPPED_ATTRIBUTES = {b"\\noselect", b"\\nonexistent"}
SPECIAL_USE = {"\\all", "\\archive", "\\drafts", "\\flagged", "\\junk", "\\sent", "\\trash", "\\important"}
SIZE_CHUNK = 1000  # UIDs per FETCH of sizes: a command line of reasonable length
FETCH_ITEMS = [b"FLAGS", b"INTERNALDATE", b"BODY.PEEK[]"]
_P = ParamSpec("_P")
_T = TypeVar("_T")


@dataclass(frozen=True)
class ImapAddress:
    tls: bool  # imaps: TLS from the first byte; imap: STARTTLS (or plain on loopback)
    login: str
    host: str
    port: int

    @property
    def label(self) -> str:
        return f"{'imaps' if self.tls else 'imap'}://{self.login}@{self.host}:{self.port}"


def parse_url(url: str) -> ImapAddress:
    """``imaps://login@host[:port]`` (the login percent-encoded if it holds an ``@``)."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        raise SourceError(_("“%(url)s” is not a valid IMAP address.", url=url[:200])) from None
    if parts.scheme not in ("imap", "imaps") or not parts.hostname:
        raise SourceError(_("An IMAP source is written imaps://login@host or imap://login@host."))
    if parts.password is not None:
        raise SourceError(_("Do not put the password in the address: give it separately."))
    if not parts.username:
        raise SourceError(_("The address must name the login on the other server: imaps://login@host."))
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise SourceError(_("An IMAP source is written imaps://login@host or imap://login@host."))
    tls = parts.scheme == "imaps"
    return ImapAddress(tls, unquote(parts.username), parts.hostname, port or (993 if tls else 143))


def is_loopback(host: str) -> bool:
    try:
        infos = socket.getaddrinfo(host, None)
    except OSError:
        return False
    return bool(infos) and all(ipaddress.ip_address(info[4][0]).is_loopback for info in infos)


def _tls_context(insecure: bool) -> ssl.SSLContext:
    context = ssl.create_default_context()
    if insecure:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


def _reason(exc: Exception) -> str:
    return (exc.strerror if isinstance(exc, OSError) else None) or str(exc) or type(exc).__name__


def _flag(value: bytes) -> str:
    return value.decode("utf-8", "replace")


class ImapSource:
    """One signed-in connection to the other server, for the length of an import."""

    def __init__(self, address: ImapAddress, password: str, *, insecure: bool = False):
        self.address = address
        self.label = address.label
        self._selected: str | None = None
        where = f"{address.host}:{address.port}"
        try:
            self.client = IMAPClient(
                address.host, address.port, ssl=address.tls, ssl_context=_tls_context(insecure), timeout=TIMEOUT
            )
        except ssl.SSLCertVerificationError as exc:
            raise SourceError(
                _(
                    "The certificate of %(server)s is not trusted (%(reason)s). If you know this server, "
                    "allow an unverified certificate.",
                    server=where,
                    reason=exc.verify_message,
                )
            ) from None
        except (OSError, IMAPClientError) as exc:
            raise SourceUnavailable(
                _("Cannot reach the IMAP server %(server)s: %(reason)s", server=where, reason=_reason(exc))
            ) from None
        try:
            self._secure(insecure, where)
            self.client.login(address.login, password)
        except LoginError:
            self.close()
            raise SourceError(
                _("The server %(server)s refused the login of %(login)s.", server=where, login=address.login)
            ) from None
        except ssl.SSLCertVerificationError as exc:
            self.close()
            raise SourceError(
                _(
                    "The certificate of %(server)s is not trusted (%(reason)s). If you know this server, "
                    "allow an unverified certificate.",
                    server=where,
                    reason=exc.verify_message,
                )
            ) from None
        except (OSError, IMAPClientError) as exc:
            self.close()
            raise SourceUnavailable(
                _("The IMAP server %(server)s failed: %(reason)s", server=where, reason=_reason(exc))
            ) from None
        except SourceError:
            self.close()
            raise
        self.client.normalise_times = False  # keep INTERNALDATE's time zone

    def _secure(self, insecure: bool, where: str) -> None:
        if self.address.tls:
            return
        if self.client.has_capability("STARTTLS"):
            self.client.starttls(_tls_context(insecure))
        elif not is_loopback(self.address.host):
            raise SourceError(
                _(
                    "The server %(server)s offers no encryption (STARTTLS): use imaps:// so that the "
                    "password is not sent in clear.",
                    server=where,
                )
            )

    def folders(self) -> list[SourceFolder]:
        found = []
        for attributes, delimiter, name in self._call(self.client.list_folders):
            lowered = {a.lower() for a in attributes}
            if lowered & SKIPPED_ATTRIBUTES:
                continue
            special = next((_flag(a) for a in attributes if a.lower().decode() in SPECIAL_USE), None)
            parts = tuple(name.split(delimiter.decode())) if delimiter else (name,)
            status = self._call(self.client.folder_status, name, [b"UIDVALIDITY"])
            found.append(SourceFolder(name, parts, special, int(status[b"UIDVALIDITY"])))
        return found

    def _select(self, folder: SourceFolder) -> int:
        """EXAMINE the folder (read-only); returns how many messages it holds."""
        info = self._call(self.client.select_folder, folder.name, readonly=True)
        self._selected = folder.name
        if int(info.get(b"UIDVALIDITY", folder.uidvalidity)) != folder.uidvalidity:
            raise SourceUnavailable(
                _("The folder %(folder)s changed on the server during the import; run it again.", folder=folder.name)
            )
        return int(info.get(b"EXISTS", 0))

    def entries(self, folder: SourceFolder) -> list[Entry]:
        if self._select(folder) == 0:
            return []
        uids = sorted(self._call(self.client.search, "ALL"))
        entries = []
        for start in range(0, len(uids), SIZE_CHUNK):
            answer = self._call(self.client.fetch, uids[start : start + SIZE_CHUNK], [b"RFC822.SIZE"])
            entries += [Entry(uid, int(data.get(b"RFC822.SIZE", 0))) for uid, data in answer.items()]
        return sorted(entries)

    def fetch(self, folder: SourceFolder, uids: Sequence[int]) -> list[SourceMessage]:
        if self._selected != folder.name:
            self._select(folder)
        answer = self._call(self.client.fetch, list(uids), FETCH_ITEMS)
        messages = []
        for uid in sorted(answer):
            data = answer[uid]
            raw = data.get(b"BODY[]")
            if raw is None:  # expunged meanwhile by someone else
                continue
            flags = tuple(
                f for f in map(_flag, data.get(b"FLAGS", ())) if not f.startswith("\\") or f.lower() in SYSTEM_FLAGS
            )
            messages.append(SourceMessage(uid, bytes(raw), flags, data.get(b"INTERNALDATE")))
        return messages

    def _call(self, method: Callable[_P, _T], *args: _P.args, **kwargs: _P.kwargs) -> _T:
        try:
            return method(*args, **kwargs)
        except (OSError, IMAPClientError) as exc:
            where = f"{self.address.host}:{self.address.port}"
            raise SourceUnavailable(
                _("The IMAP server %(server)s failed: %(reason)s", server=where, reason=_reason(exc))
            ) from None

    def close(self) -> None:
        try:
            self.client.logout()
        except (OSError, IMAPClientError):
            with contextlib.suppress(OSError):
                self.client.shutdown()
