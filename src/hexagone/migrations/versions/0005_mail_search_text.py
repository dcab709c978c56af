"""Mail: what IMAP SEARCH BODY and TEXT look into, as Dovecot 2.3 searches (issue 16).

``search_text`` holds the decoded body of every text part of a message, wherever it sits
(attachments, forwarded messages, HTML as written); ``part_headers`` the decoded header
fields of its MIME parts and embedded messages. ``text`` stays the readable extract that
the API and the pages show. The full-text index (hexagone/mail/fulltext.py) moves from
``text`` to ``search_text``.

Existing data: ``search_text`` starts as the old extract, ``part_headers`` empty, until
``hexagone mail reparse`` reads the messages again.

Revision ID: 0005_mail_search_text
Revises: 0004_folders
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_mail_search_text"
down_revision = "0004_folders"
branch_labels = None
depends_on = None


def _sqlite_index(column: str) -> list[str]:
    """The statements that make the SQLite index of ``subject`` and ``column``."""
    return [
        f"CREATE VIRTUAL TABLE mail_messages_fts USING fts5("
        f"subject, {column}, content='mail_messages', content_rowid='rowid', tokenize='trigram')",
        "INSERT INTO mail_messages_fts(mail_messages_fts) VALUES ('rebuild')",
        f"CREATE TRIGGER mail_messages_fts_insert AFTER INSERT ON mail_messages BEGIN "
        f"INSERT INTO mail_messages_fts(rowid, subject, {column}) VALUES (new.rowid, new.subject, new.{column}); END",
        f"CREATE TRIGGER mail_messages_fts_delete AFTER DELETE ON mail_messages BEGIN "
        f"INSERT INTO mail_messages_fts(mail_messages_fts, rowid, subject, {column}) "
        f"VALUES ('delete', old.rowid, old.subject, old.{column}); END",
        f"CREATE TRIGGER mail_messages_fts_update AFTER UPDATE OF subject, {column} ON mail_messages BEGIN "
        f"INSERT INTO mail_messages_fts(mail_messages_fts, rowid, subject, {column}) "
        f"VALUES ('delete', old.rowid, old.subject, old.{column}); "
        f"INSERT INTO mail_messages_fts(rowid, subject, {column}) VALUES (new.rowid, new.subject, new.{column}); END",
    ]


SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS mail_messages_fts_update",
    "DROP TRIGGER IF EXISTS mail_messages_fts_delete",
    "DROP TRIGGER IF EXISTS mail_messages_fts_insert",
    "DROP TABLE IF EXISTS mail_messages_fts",
]


def _postgres_has_trigrams() -> bool:
    """Whether migration 0002 could make the trigram indexes (pg_trgm was available)."""
    found = op.get_bind().execute(sa.text("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")).first()
    return found is not None


def _drop_index(column: str) -> None:
    if op.get_bind().dialect.name == "sqlite":
        for statement in SQLITE_DROP:
            op.execute(statement)
    elif _postgres_has_trigrams():
        op.execute(f"DROP INDEX IF EXISTS ix_mail_messages_{column}_trgm")


def _create_index(column: str) -> None:
    if op.get_bind().dialect.name == "sqlite":
        for statement in _sqlite_index(column):
            op.execute(statement)
    elif _postgres_has_trigrams():
        op.execute(f"CREATE INDEX ix_mail_messages_{column}_trgm ON mail_messages USING gin (lower({column}) gin_trgm_ops)")


def upgrade() -> None:
    # Plain ALTER TABLE, also on SQLite: a table copied by a batch operation could get other
    # rowids, which the SQLite index refers to.
    _drop_index("text")
    op.add_column("mail_messages", sa.Column("search_text", sa.Text(), server_default="", nullable=False))
    op.add_column("mail_messages", sa.Column("part_headers", sa.Text(), server_default="", nullable=False))
    op.execute("UPDATE mail_messages SET search_text = text")
    _create_index("search_text")


def downgrade() -> None:
    _drop_index("search_text")
    for column in ("part_headers", "search_text"):
        op.execute(f"ALTER TABLE mail_messages DROP COLUMN {column}")
    _create_index("text")
