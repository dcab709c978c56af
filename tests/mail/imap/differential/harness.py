"""The differential comparison with Dovecot: the same messages APPENDed to both servers,
then the same FETCH and SEARCH commands sent to both, and the answers compared item by
item, message by message.

Answers are compared as IMAP *values*, not as bytes: a string is the same string whether a
server sends it quoted or as a literal (RFC 3501 4.3 lets it choose), and the case of
atoms like ``NIL`` does not matter. Everything else must be equal.

Used by the tests beside it (``conftest.py`` appends once per session) and by
``bench/mail/differential.py``, which prints the share of identical answers per item.
"""

from __future__ import annotations

import imaplib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from tests.mail.imap.differential import envelope_cases
from tests.mail.imap.differential.malformed import MALFORMED
from tests.mail.imap.differential.mime_cases import MIME_CASES


def _corpus() -> Path:
    """``shared/corpus/mail`` beside the checkout, or beside a directory above it (a git
    worktree sits one level deeper than the main checkout)."""
    for folder in Path(__file__).resolve().parents[4:]:
        if (folder / "shared" / "corpus" / "mail").is_dir():
            return folder / "shared" / "corpus" / "mail"
    return Path(__file__).resolve().parents[5] / "shared" / "corpus" / "mail"


CORPUS = _corpus()
BASE = datetime(2024, 1, 1, tzinfo=UTC)

# What each message is asked for, in one FETCH per item over the whole folder.
ITEMS = ("ENVELOPE", "BODYSTRUCTURE", "BODY", "RFC822.SIZE", "BODY[1]", "BODY[HEADER]", "BODY[TEXT]")
# SEARCH criteria sent to both, in the order of the report.
SEARCHES = (
    'FROM "example"',
    'FROM "alice"',
    'TO "@"',
    'TO "bob"',
    'TO "team"',
    'CC "@"',
    'SUBJECT "test"',
    'SUBJECT "the"',
    'BODY "the"',
    'BODY "attachment"',
    'TEXT "example"',
    'TEXT "Mime-Version"',
    'HEADER "Message-ID" ""',
    'HEADER "Content-Type" "multipart"',
    'HEADER "X-Mailer" ""',
    "SENTBEFORE 1-Jan-2000",
    "SENTON 26-Mar-1993",
    "SENTSINCE 1-Jan-2020",
    "SENTON 31-Dec-2023",
    'OR FROM "alice" TO "bob"',
    'OR SUBJECT "test" FROM "example"',
    *envelope_cases.SEARCHES,
)


@dataclass
class Mail:
    name: str
    data: bytes


def messages() -> list[Mail]:
    """Every message of the shared corpus, then the malformed ones and the MIME corners of
    our own making."""
    corpus = [Mail(str(path.relative_to(CORPUS)), path.read_bytes()) for path in sorted(CORPUS.rglob("*.eml"))]
    ours = MALFORMED | envelope_cases.ENVELOPE_CASES
    return (
        corpus
        + [Mail(f"malformed/{name}", data) for name, data in ours.items()]
        + [Mail(f"mime/{name}", data) for name, data in MIME_CASES.items()]
    )


# --- reading IMAP values ------------------------------------------------------------------

_TOKEN = re.compile(
    rb'\s*(?:(\()|(\))|"((?:[^"\\]|\\.)*)"|\{(\d+)\+?\}\r\n|([^\s()"{\[]+(?:\[[^\]]*\][^\s()]*)?))', re.S
)


def parse_values(data: bytes) -> list[Any]:
    """The values of a response line (literals inline after their ``{n}\\r\\n``): lists,
    strings (bytes), ``None`` for NIL, atoms as upper-case ``str``."""
    stack: list[list[Any]] = [[]]
    position = 0
    while position < len(data):
        match = _TOKEN.match(data, position)
        if match is None:
            if data[position:].strip():
                raise ValueError(f"cannot read {data[position : position + 40]!r}")
            break
        position = match.end()
        opened, closed, quoted, literal, atom = match.groups()
        if opened:
            stack.append([])
        elif closed:
            done = stack.pop()
            stack[-1].append(done)
        elif quoted is not None:
            stack[-1].append(re.sub(rb"\\(.)", rb"\1", quoted))
        elif literal is not None:
            size = int(literal)
            stack[-1].append(data[position : position + size])
            position += size
        else:
            text = atom.decode("latin-1")
            stack[-1].append(None if text.upper() == "NIL" else text.upper())
    while len(stack) > 1:
        done = stack.pop()
        stack[-1].append(done)
    return stack[0]


def _joined(data: Sequence[Any]) -> list[bytes]:
    """imaplib's FETCH answer (tuples around literals) as one byte string per response."""
    lines: list[bytes] = []
    current = b""
    for item in data:
        if isinstance(item, tuple):
            current += item[0] + b"\r\n" + item[1]
        elif item is not None:
            current += item
            lines.append(current)
            current = b""
    if current:
        lines.append(current)
    return lines


def fetch(client: imaplib.IMAP4, sequence: str, items: str) -> dict[int, dict[str, Any]]:
    """``FETCH sequence (items)`` as {message number: {ITEM NAME: value}}."""
    typ, data = client.fetch(sequence, f"({items})")
    if typ != "OK":
        raise RuntimeError(f"FETCH {sequence} ({items}): {typ} {data!r}")
    found: dict[int, dict[str, Any]] = {}
    for line in _joined(data):
        values = parse_values(line)
        number, pairs = int(values[0]), values[1]
        items_of = found.setdefault(number, {})
        for name, value in zip(pairs[::2], pairs[1::2], strict=True):
            items_of[name.replace(".PEEK", "")] = value
    return found


def search(client: imaplib.IMAP4, criteria: str) -> tuple[int, ...] | str:
    """The message numbers ``SEARCH criteria`` finds, or the error text."""
    try:
        typ, data = client.search(None, criteria)
    except imaplib.IMAP4.error as error:
        return f"error: {error}"
    if typ != "OK":
        return f"{typ}: {data!r}"
    return tuple(sorted(int(n) for n in b" ".join(d for d in data if d).split()))


# --- the comparison -----------------------------------------------------------------------


def internal_date(index: int) -> str:
    """The internal date of the ``index``-th message appended: a permutation of hours with
    repeats, so that arrival order is neither the order of appending nor without ties."""
    return (BASE + timedelta(hours=(index * 37) % 60)).strftime('"%d-%b-%Y %H:%M:%S +0000"')


def append_all(client: imaplib.IMAP4, mails: Iterable[Mail], folder: str = "INBOX", first: int = 0) -> None:
    """APPEND each mail, the ``n``-th with :func:`internal_date` of ``first + n``."""
    for index, mail in enumerate(mails, start=first):
        typ, data = client.append(folder, None, internal_date(index), mail.data)
        if typ != "OK":
            raise RuntimeError(f"APPEND {mail.name}: {typ} {data!r}")


def part_paths(structure: Any, prefix: str = "") -> list[tuple[str, bool]]:
    """(part number, is message/rfc822) of every part of a BODYSTRUCTURE: the children of
    a multipart, or part 1 for a single part; then the parts within each of those."""
    if _is_multipart(structure):
        children = [child for child in structure if isinstance(child, list) and child]
        children = children[: next((i for i, c in enumerate(children) if not _is_part(c)), len(children))]
        return [
            found for index, child in enumerate(children) for found in _with_children(child, f"{prefix}{index + 1}")
        ]
    return _with_children(structure, f"{prefix}1")


def _is_multipart(node: Any) -> bool:
    return isinstance(node, list) and bool(node) and isinstance(node[0], list)


def _is_part(node: Any) -> bool:
    return _is_multipart(node) or (isinstance(node, list) and len(node) > 6 and isinstance(node[0], bytes))


def _with_children(node: Any, number: str) -> list[tuple[str, bool]]:
    is_message = (
        isinstance(node, list)
        and len(node) > 8
        and isinstance(node[0], bytes)
        and node[0].lower() == b"message"
        and node[1].lower() in (b"rfc822", b"global")
    )
    found = [(number, is_message)]
    if is_message:
        found += part_paths(node[8], number + ".")
    elif _is_multipart(node):
        found += part_paths(node, number + ".")
    return found


def sections_of(structure: Any) -> list[str]:
    """The sections worth fetching for one message: every part, its MIME header, and the
    HEADER and TEXT of every embedded message."""
    sections: list[str] = []
    for number, is_message in part_paths(structure):
        sections += [f"BODY[{number}]", f"BODY[{number}.MIME]"]
        if is_message:
            sections += [f"BODY[{number}.HEADER]", f"BODY[{number}.TEXT]"]
    return sections[:60]


@dataclass
class Answers:
    """One server's answers: per item, per message name."""

    items: dict[str, dict[str, Any]] = field(default_factory=dict)
    sections: dict[str, dict[str, Any]] = field(default_factory=dict)  # message → section → value
    searches: dict[str, tuple[int, ...] | str] = field(default_factory=dict)


def collect(client: imaplib.IMAP4, mails: Sequence[Mail], sections: dict[str, list[str]]) -> Answers:
    """Everything the comparison asks one server, ``client`` signed in with INBOX holding
    ``mails`` in order; ``sections`` names the sections to fetch per message."""
    client.select("INBOX", readonly=True)
    answers = Answers()
    count = len(mails)
    for item in ITEMS:
        fetched = fetch(client, f"1:{count}", item.replace("BODY[", "BODY.PEEK["))
        answers.items[item] = {mail.name: fetched.get(n + 1, {}).get(item) for n, mail in enumerate(mails)}
    for number, mail in enumerate(mails, start=1):
        wanted = sections.get(mail.name) or []
        got = fetch(client, str(number), " ".join(s.replace("BODY[", "BODY.PEEK[") for s in wanted)) if wanted else {}
        answers.sections[mail.name] = {s: got.get(number, {}).get(s) for s in wanted}
    for criteria in SEARCHES:
        answers.searches[criteria] = search(client, criteria)
    return answers


def names_found(numbers: tuple[int, ...] | str, mails: Sequence[Mail]) -> set[str] | str:
    return numbers if isinstance(numbers, str) else {mails[n - 1].name for n in numbers}


@dataclass
class Difference:
    item: str
    message: str
    ours: Any
    dovecot: Any


def differences(ours: Answers, dovecot: Answers, mails: Sequence[Mail]) -> list[Difference]:
    found: list[Difference] = []
    for item, per_message in dovecot.items.items():
        for name, value in per_message.items():
            if ours.items[item].get(name) != value:
                found.append(Difference(item, name, ours.items[item].get(name), value))
    for name, per_section in dovecot.sections.items():
        for section, value in per_section.items():
            if ours.sections.get(name, {}).get(section) != value:
                found.append(Difference(f"SECTION {section}", name, ours.sections.get(name, {}).get(section), value))
    for criteria, numbers in dovecot.searches.items():
        theirs, mine = names_found(numbers, mails), names_found(ours.searches.get(criteria, ()), mails)
        if theirs != mine:
            if isinstance(theirs, set) and isinstance(mine, set):
                found.append(Difference(f"SEARCH {criteria}", "", sorted(mine - theirs), sorted(theirs - mine)))
            else:
                found.append(Difference(f"SEARCH {criteria}", "", mine, theirs))
    return found


def summary(ours: Answers, dovecot: Answers, mails: Sequence[Mail]) -> dict[str, tuple[int, int]]:
    """(identical, compared) per item; sections count each section of each message once,
    searches each criteria once."""
    result: dict[str, tuple[int, int]] = {}
    for item, per_message in dovecot.items.items():
        same = sum(ours.items[item].get(name) == value for name, value in per_message.items())
        result[item] = (same, len(per_message))
    pairs = [(name, s, v) for name, per in dovecot.sections.items() for s, v in per.items()]
    same = sum(ours.sections.get(name, {}).get(s) == v for name, s, v in pairs)
    result["nested sections"] = (same, len(pairs))
    same = sum(
        names_found(n, mails) == names_found(ours.searches.get(c, ()), mails) for c, n in dovecot.searches.items()
    )
    result["SEARCH"] = (same, len(dovecot.searches))
    return result


def compare_servers(ours: imaplib.IMAP4, dovecot: imaplib.IMAP4, mails: Sequence[Mail]) -> tuple[Answers, Answers]:
    """Both servers' answers; the sections asked are those Dovecot's BODYSTRUCTURE names."""
    dovecot.select("INBOX", readonly=True)
    structures = fetch(dovecot, f"1:{len(mails)}", "BODYSTRUCTURE")
    sections = {mail.name: sections_of(structures[n + 1]["BODYSTRUCTURE"]) for n, mail in enumerate(mails)}
    return collect(ours, mails, sections), collect(dovecot, mails, sections)
