"""The keys that sign ID tokens: RSA (RS256, what every relying party accepts), one PEM
file per key in ``$HEXAGONE_DATA_DIR/oidc-keys/`` (folder 0700, files 0600).

The first key is generated on first use. Every key in the folder is published in the
JWKS; the newest one signs. Rotating is therefore adding a key (``hexagone oidc-key
rotate``) and, once the tokens it signed have expired, deleting the old file. Several
worker processes may race to create the first key: each then publishes both, which is
harmless. Processes notice a new or removed file through the folder's mtime, so a
rotation needs no restart. Replicas on several machines must share this folder.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from joserfc.jwk import KeySet, RSAKey

from hexagone.core.config import Settings, get_settings

ALGORITHM = "RS256"
KEY_BITS = 2048
FOLDER = "oidc-keys"


@dataclass(frozen=True)
class SigningKeys:
    current: RSAKey  # signs what is issued now
    published: KeySet  # every key still trusted, for the JWKS

    def jwks(self) -> dict[str, object]:
        return dict(self.published.as_dict(private=False))


_cache: dict[Path, tuple[int, SigningKeys]] = {}


def key_folder(settings: Settings | None = None) -> Path:
    folder = (settings or get_settings()).data_dir / FOLDER
    if not folder.is_dir():
        folder.mkdir(parents=True, exist_ok=True)
        folder.chmod(0o700)
    return folder


def _parameters(kid: str) -> dict[str, str]:
    return {"kid": kid, "use": "sig", "alg": ALGORITHM}


def add_key(settings: Settings | None = None) -> str:
    """Generate a key that becomes the signing key (the older ones stay published);
    returns its key id."""
    folder = key_folder(settings)
    key = RSAKey.generate_key(KEY_BITS, private=True)
    kid = key.thumbprint()
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
    final = folder / f"{stamp}-{kid}.pem"
    partial = folder / f".{final.name}.partial"
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(key.as_pem(private=True))
    partial.rename(final)  # atomic: a reader never sees half a key
    return kid


def _load(folder: Path) -> list[RSAKey]:
    keys = []
    for path in sorted(folder.glob("*.pem")):  # names start with a UTC time: oldest first
        pem = path.read_bytes()
        key = RSAKey.import_key(pem)
        keys.append(RSAKey.import_key(pem, parameters=_parameters(key.thumbprint())))  # type: ignore[arg-type]
    return keys


def signing_keys(settings: Settings | None = None) -> SigningKeys:
    folder = key_folder(settings)
    if not any(folder.glob("*.pem")):
        add_key(settings)
    stamp = folder.stat().st_mtime_ns
    cached = _cache.get(folder)
    if cached is not None and cached[0] == stamp:
        return cached[1]
    keys = _load(folder)
    loaded = SigningKeys(current=keys[-1], published=KeySet(list(keys)))
    _cache[folder] = (stamp, loaded)
    return loaded
