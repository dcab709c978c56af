"""The full-text index of messages' subjects and search texts, for substring searches.

IMAP SEARCH SUBJECT, BODY and TEXT ask whether a string occurs in a message, anywhere,
in any case: ``lower(column) LIKE '%needle%'``, which without an index reads every row of
the folder (on 50,000 messages, the text of all of them). A trigram index answers that
kind of question from the index, for any string of three characters or more:

- **SQLite**: ``mail_messages_fts``, an FTS5 table with the ``trigram`` tokenizer over
  ``mail_messages``' own ``subject`` and ``search_text`` (external content: the text is not
  stored twice), kept in step by triggers on insert, delete (expunge, move) and update.
  A search first takes the rowids the index gives for the string, then applies the
  exact condition to those rows only. The index maps rowids: after a ``VACUUM`` (which
  may renumber them) it must be rebuilt:
  ``INSERT INTO mail_messages_fts(mail_messages_fts) VALUES ('rebuild')``.
- **PostgreSQL**: GIN trigram indexes (``pg_trgm``) on ``lower(subject)`` and
  ``lower(search_text)``, which the planner uses for the ``LIKE`` itself; nothing to add to the
  query. Where the extension cannot be created, the migration leaves them out and
  searches read the rows as before.

The index only narrows the rows: the answer is still the exact ``LIKE`` (case folding
as before, no word or language rules), so a search finds the same messages with or
without it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Boolean, ColumnElement, bindparam, true
from sqlalchemy.ext.compiler import compiles

FTS_TABLE = "mail_messages_fts"
INDEXED = ("subject", "search_text")
MIN_LENGTH = 3  # a trigram index cannot narrow a shorter string


class _Candidates(ColumnElement[bool]):
    """The rows of ``mail_messages`` whose ``column`` the index says may contain
    ``needle`` (rendered per database, below)."""

    inherit_cache = False
    type = Boolean()

    def __init__(self, column: str, needle: str):
        self.column, self.needle = column, needle


@compiles(_Candidates)
def _anywhere(element: _Candidates, compiler: Any, **kw: Any) -> str:
    return compiler.process(true(), **kw)  # PostgreSQL's index serves the LIKE itself


@compiles(_Candidates, "sqlite")
def _sqlite(element: _Candidates, compiler: Any, **kw: Any) -> str:
    phrase = '"' + element.needle.replace('"', '""') + '"'  # an FTS5 string: its characters as they are
    match = compiler.process(bindparam(None, f"{element.column} : {phrase}", unique=True), **kw)
    return f"mail_messages.rowid IN (SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH {match})"


def may_contain(column: str, needle: str) -> ColumnElement[bool] | None:
    """A condition that narrows a search for ``needle`` in ``column`` (subject or search_text)
    through the index, or None when the index cannot help (another column, a string too
    short). AND it with the exact condition."""
    if column not in INDEXED or len(needle) < MIN_LENGTH:
        return None
    return _Candidates(column, needle)
