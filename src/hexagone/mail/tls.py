"""The TLS identity of the mail listeners (STARTTLS on IMAP, SMTP and submission).

The certificate comes from configuration (``HEXAGONE_TLS_CERT_FILE`` and
``HEXAGONE_TLS_KEY_FILE``, e.g. Let's Encrypt's files); without it, a self-signed one
is generated on first run into the data directory, so that a fresh install encrypts from
the first connection (clients will ask the user to trust it).
"""

from __future__ import annotations

import datetime
import ipaddress
import os
import ssl
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from hexagone.core.config import Settings, get_settings

SELF_SIGNED_DAYS = 825


def _write_once(path: Path, data: bytes) -> None:
    """Write ``path`` unless another worker already did: the first hard link wins."""
    candidate = path.with_name(f".{path.name}.{os.getpid()}")
    candidate.write_bytes(data)
    candidate.chmod(0o600)
    try:
        os.link(candidate, path)
    except FileExistsError:
        pass
    finally:
        candidate.unlink()


def self_signed(settings: Settings) -> Path:
    """The generated key and certificate (one PEM file holding both), made on first call."""
    path = settings.data_dir / "tls" / "mail-self-signed.pem"
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    hostname = settings.resolved_mail_hostname
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hostname)])
    now = datetime.datetime.now(datetime.UTC)
    alt_names: list[x509.GeneralName] = [
        x509.DNSName(hostname),
        x509.DNSName("localhost"),
        x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
    ]
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=SELF_SIGNED_DAYS))
        .add_extension(x509.SubjectAlternativeName(alt_names), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ) + cert.public_bytes(serialization.Encoding.PEM)
    _write_once(path, pem)
    return path


_contexts: dict[tuple[Path | None, Path | None, Path], ssl.SSLContext] = {}


def server_context(settings: Settings | None = None) -> ssl.SSLContext:
    """The context STARTTLS wraps connections with (TLS 1.2 or later), made once."""
    settings = settings or get_settings()
    cache_key = (settings.tls_cert_file, settings.tls_key_file, settings.data_dir)
    if cache_key not in _contexts:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        if settings.tls_cert_file and settings.tls_key_file:
            context.load_cert_chain(str(settings.tls_cert_file), str(settings.tls_key_file))
        else:
            context.load_cert_chain(str(self_signed(settings)))
        _contexts[cache_key] = context
    return _contexts[cache_key]
