"""Settings, read once from ``HEXAGONE_*`` environment variables.

The backend of every concern (database, pub/sub, blobs) is chosen here, never by editing
code. ``docs/configuration.md`` documents each field; keep the two in step.
"""

from __future__ import annotations

import base64
import binascii
import os
import secrets
from functools import lru_cache
from pathlib import Path

from pydantic import AliasChoices, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

SERVE_PARTS = frozenset({"web", "protocols", "jobs"})


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HEXAGONE_", extra="ignore", populate_by_name=True)

    data_dir: Path = Path("./var")
    database_url: str | None = None
    host: str = "127.0.0.1"
    http_port: int = 8000
    base_url: str | None = None
    secret_key: str | None = None
    pubsub_url: str = "memory://"
    blob_url: str | None = None
    # Encryption at rest (core/blobs/encrypted.py; docs/configuration.md): each
    # organisation's blobs under its own key, the keys sealed by the master key.
    blob_encryption: bool = Field(default=False, description="Encrypt blobs at rest (AES-256-GCM).")
    blob_master_key: SecretStr | None = Field(
        default=None, description="Base64 of 32 random bytes (openssl rand -base64 32); required by encryption."
    )
    blob_master_key_previous: SecretStr | None = Field(
        default=None, description="The master key being replaced, still accepted until `hexagone blobs rewrap` ran."
    )
    jobs_concurrency: int = 4
    live_port: int = Field(default=8001, description="Port of the live sockets (chat), served beside the pages.")
    live_url: str = Field(
        default="",
        description="Where pages open the live sockets, e.g. wss://suite.example.fr behind a proxy routing the "
        "live paths to live_port; default: the base URL's host on live_port.",
    )
    websocket_recheck_seconds: float = Field(
        default=60.0,
        gt=0,
        description="How often a WebSocket asks again whether the sign-in that opened it still holds.",
    )
    demo_password: str = "Hexagone-demo-2026"
    modules: str = Field(
        default="",
        description="Extra module import paths, comma separated, added to the installed ones.",
    )
    server: str = "granian"
    serve_parts: str = Field(
        default="web,protocols,jobs",
        description="What `hexagone serve` runs in this process, comma separated: web (pages and API), "
        "protocols (the modules' servers: IMAP, SMTP), jobs (the job worker).",
    )
    workers: int = Field(
        default=0,
        ge=0,
        description="Web worker processes; 0: one per core when the event bus reaches every process, else 1.",
    )
    # Brute force is slowed, never turned into a lockout anyone can trigger (docs/security.md).
    login_max_failures_per_account_and_ip: int = Field(
        default=10,
        # The former name, from when the limit locked the account from every address.
        validation_alias=AliasChoices(
            "HEXAGONE_LOGIN_MAX_FAILURES_PER_ACCOUNT_AND_IP", "HEXAGONE_LOGIN_MAX_FAILURES_PER_ACCOUNT"
        ),
        description="Failures for one account from one address before that address is refused for it.",
    )
    login_max_failures_per_ip: int = 50
    login_slowdown_after_failures: int = Field(
        default=10,
        description="Failures for one account, from all addresses, before unknown devices are slowed down.",
    )
    login_max_delay_seconds: float = 10.0
    login_failure_floor_seconds: float = Field(
        default=0.3,
        ge=0,
        description="A refused IMAP/SMTP sign-in is answered no sooner than this after it began, whatever the "
        "account (as Dovecot's auth_failure_delay): known and unknown accounts cost the same to the clock.",
    )
    login_known_device_days: int = 30
    login_failure_window_seconds: int = 900
    session_max_age_seconds: int = 14 * 24 * 3600
    principal_cache_seconds: float = Field(
        default=10.0,
        ge=0,
        description="How long a process may reuse a session's principal (dropped at once on any change); 0: never.",
    )
    database_pool_size: int = Field(
        default=10, ge=1, description="PostgreSQL connections each process keeps open (SQLite: unused)."
    )
    database_max_overflow: int = Field(
        default=20, ge=0, description="PostgreSQL connections a process may open beyond the pool under load."
    )
    max_body_bytes: int = 1_048_576
    log_level: str = "info"
    # Mail (the mail module's listeners and delivery; see docs/configuration.md)
    mail_hostname: str = Field(
        default="", description="Name the mail server gives itself (EHLO, Received); default: host."
    )
    smtp_port: int = 2525
    submission_port: int = 2587
    imap_port: int = 1143
    managesieve_port: int = 4190
    mail_listen_host: str | None = None
    tls_cert_file: Path | None = None
    tls_key_file: Path | None = None
    mail_max_message_bytes: int = 50 * 1024 * 1024
    mail_link_attachments_over_bytes: int = Field(
        default=10 * 1024 * 1024,
        ge=0,
        description="A file added in the webmail composer above this size goes to the writer's drive and is sent "
        "as a link (when the organisation has the drive); 0 never.",
    )
    mail_default_quota_bytes: int = 5 * 1024**3
    mail_smarthost: str = Field(
        default="", description="host:port to relay all remote mail through, instead of MX lookup."
    )
    mail_mx_override: str = Field(
        default="", description="domain=host:port pairs, comma separated, used instead of MX lookup (tests, staging)."
    )
    mail_dns_servers: str = Field(
        default="", description="ip[:port] resolvers, comma separated, for MX/SPF/DKIM/DMARC lookups."
    )
    mail_max_recipients: int = 100
    mail_sieve_max_scripts: int = Field(default=20, ge=1, description="Sieve scripts one mailbox may keep.")
    mail_sieve_max_script_bytes: int = Field(default=64 * 1024, ge=1024, description="Largest Sieve script, in bytes.")
    mail_queue_lifetime_seconds: int = 5 * 24 * 3600
    mail_retry_base_seconds: int = 60
    mail_platform_sender: str = Field(
        default="", description="From: of platform e-mail; default noreply@<mail hostname>."
    )
    smtp_max_connections_per_client: int = 20
    smtp_max_connections_per_minute: int = 120
    smtp_max_errors: int = 20
    smtp_limit_exempt: str = Field(default="127.0.0.0/8,::1", description="Networks the per-client limits spare.")
    # Calendar: the organisation's video-meeting service, as a URL template where {id}
    # becomes a fresh random room name (e.g. https://visio.example.org/{id}); empty: no link.
    meeting_url_template: str = Field(
        default="", description="URL of a new meeting room, {id} replaced by a random name; empty: no meeting link."
    )
    # Calendar feeds (ICS subscriptions): how often they are fetched again, and whether a
    # feed may live on a private or loopback address (off: a user could make the server
    # fetch from inside its own network).
    drive_max_upload_bytes: int = Field(
        default=10 * 1024**3, ge=1, description="The largest file a drive's upload form takes, in bytes."
    )
    calendar_feed_refresh_minutes: int = Field(default=360, ge=5, description="Minutes between two fetches of a feed.")
    calendar_feed_allow_private: bool = Field(
        default=False, description="Allow calendar feeds on private, loopback or link-local addresses."
    )
    # Password hashing (argon2id). The defaults are OWASP's first argon2id configuration (19 MiB,
    # 2 passes, 1 lane), chosen in docs/security.md; only the test harness lowers them, where
    # hashing cost is all waste.
    password_hash_time_cost: int = Field(default=2, ge=1, description="argon2id passes over the memory.")
    password_hash_memory_kib: int = Field(default=19456, ge=8, description="argon2id memory per hash, in KiB.")
    password_hash_parallelism: int = Field(default=1, ge=1, description="argon2id lanes.")
    # A protocol sign-in's verified password is remembered this long, as a keyed digest
    # (identity/service/verified.py); 0 verifies every time.
    login_cache_seconds: int = Field(default=3600, ge=0, description="How long a verified mail password is reused.")
    login_cache_entries: int = Field(default=10_000, ge=1, description="Entries the in-process login cache keeps.")

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'hexagone.sqlite3').resolve()}"

    @property
    def resolved_base_url(self) -> str:
        if self.base_url:
            return self.base_url.rstrip("/")
        return f"http://{self.host}:{self.http_port}"

    @property
    def is_sqlite(self) -> bool:
        return self.resolved_database_url.startswith("sqlite")

    @property
    def resolved_secret_key(self) -> str:
        """The configured key, else one generated on first run and kept in the data dir,
        so that sessions and signed tokens survive a restart."""
        if self.secret_key:
            return self.secret_key
        path = self.data_dir / "secret_key"
        if not path.exists():
            # Workers starting together on a new data dir must agree on one key: each
            # writes its own candidate, and the first hard link to the final name wins.
            self.data_dir.mkdir(parents=True, exist_ok=True)
            candidate = path.with_name(f".secret_key.{os.getpid()}")
            candidate.write_text(secrets.token_urlsafe(48))
            candidate.chmod(0o600)
            try:
                os.link(candidate, path)
            except FileExistsError:
                pass
            finally:
                candidate.unlink()
        return path.read_text().strip()

    @property
    def resolved_mail_hostname(self) -> str:
        return self.mail_hostname or ("localhost" if self.host in ("127.0.0.1", "0.0.0.0", "::") else self.host)

    @property
    def resolved_mail_listen_host(self) -> str:
        return self.mail_listen_host or self.host

    @property
    def resolved_workers(self) -> int:
        """``workers`` if set; else one per core, provided the event bus crosses processes.
        The in-process bus (``memory://``) reaches only its own worker: an IMAP client
        idling in one worker would not hear of a message delivered by another."""
        if self.workers:
            return self.workers
        if self.pubsub_url.startswith("memory:"):
            return 1
        return os.cpu_count() or 1

    @field_validator("serve_parts")
    @classmethod
    def _known_parts(cls, value: str) -> str:
        parts = {p.strip() for p in value.split(",") if p.strip()}
        if not parts or parts - SERVE_PARTS:
            raise ValueError(f"choose one or more of {', '.join(sorted(SERVE_PARTS))}, comma separated")
        return value

    @field_validator("blob_master_key", "blob_master_key_previous", mode="before")
    @classmethod
    def _empty_master_key_is_none(cls, value: object) -> object:
        return None if value == "" else value

    @field_validator("blob_master_key", "blob_master_key_previous")
    @classmethod
    def _master_key_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(decode_key(value)) != 32:
            raise ValueError("a blob master key is the base64 of 32 random bytes (openssl rand -base64 32)")
        return value

    @model_validator(mode="after")
    def _encryption_has_a_key(self) -> Settings:
        if self.blob_encryption and self.blob_master_key is None:
            raise ValueError("HEXAGONE_BLOB_ENCRYPTION is on: set HEXAGONE_BLOB_MASTER_KEY")
        return self

    @property
    def parts(self) -> frozenset[str]:
        """:attr:`serve_parts` as a set (checked when the settings are read)."""
        return frozenset(p.strip() for p in self.serve_parts.split(",") if p.strip())

    @property
    def extra_modules(self) -> list[str]:
        return [m.strip() for m in self.modules.split(",") if m.strip()]


def decode_key(value: SecretStr) -> bytes:
    """The bytes of a base64 key setting (empty if it is not base64)."""
    try:
        return base64.b64decode(value.get_secret_value(), validate=True)
    except binascii.Error:
        return b""


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
