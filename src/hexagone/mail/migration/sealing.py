"""Passwords of other servers, sealed while an import started from the console waits for
and runs in the job worker.

The job queue is a database table, so the password cannot simply ride in the job's
payload: a copy of the database (a backup, a replica) would hold it in clear. It is
sealed with Fernet (AES-128-CBC and HMAC-SHA256, from ``cryptography``) under a key
derived with HKDF from the server's secret key, which lives outside the database; the
token expires after :data:`LIFETIME`, and the job removes it from its payload when the
import ends, done or failed. It never reaches the ImportRun row, the logs or the pages.
"""

from __future__ import annotations

import base64
from datetime import timedelta

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from hexagone.core.config import get_settings
from hexagone.core.exceptions import Invalid
from hexagone.core.i18n import gettext as _

LIFETIME = timedelta(days=7)
_PURPOSE = b"hexagone mail import passwords v1"


def _fernet() -> Fernet:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_PURPOSE).derive(
        get_settings().resolved_secret_key.encode()
    )
    return Fernet(base64.urlsafe_b64encode(key))


def seal(password: str) -> str:
    return _fernet().encrypt(password.encode()).decode()


def unseal(token: str) -> str:
    try:
        return _fernet().decrypt(token.encode(), ttl=int(LIFETIME.total_seconds())).decode()
    except (InvalidToken, ValueError):
        raise Invalid(
            _("The password of the other server expired or can no longer be read: start the import again.")
        ) from None
