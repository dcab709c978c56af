"""What mbox and Maildir carry comes back unchanged: From quoting, status headers,
Maildir letters and keywords, folder names (property-based where the inputs are open)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from hexagone.mail.migration import formats

FLAGS = ["\\Seen", "\\Answered", "\\Flagged", "\\Draft", "\\Deleted"]
KEYWORDS = st.lists(
    st.text(alphabet="abcdefghijklmnopqrstuvwxyz$_-0123456789", min_size=1, max_size=12), max_size=5, unique=True
)
LINES = st.lists(st.sampled_from(["From me", ">From you", ">>From", "From ", "Fromage", " From", "x", ""]), max_size=12)


@given(LINES)
def test_mboxrd_quoting_is_undone_exactly(lines: list[str]) -> None:
    body = "\n".join(lines).encode()
    quoted = formats.quote_from(body)
    assert not any(line.startswith(b"From ") for line in quoted.split(b"\n"))
    assert formats.unquote_from(quoted) == body


@given(st.sets(st.sampled_from(FLAGS)), KEYWORDS)
def test_mbox_status_headers_carry_flags_and_keywords_back(flags: set[str], keywords: list[str]) -> None:
    header = b"From: a@example.org\nSubject: x\n"
    raw = header + formats.mbox_status_headers([*flags, *keywords]) + b"\nbody\n"
    found, stripped = formats.mbox_flags(raw)
    assert set(found) == flags | set(keywords) and stripped == header + b"\nbody\n"


@given(st.sets(st.sampled_from([*FLAGS, "$Forwarded"])), KEYWORDS)
def test_maildir_letters_carry_flags_and_keywords_back(flags: set[str], keywords: list[str]) -> None:
    keywords = [k for k in keywords if k != "$Forwarded"]
    letters = {keyword: formats.KEYWORD_LETTERS[i] for i, keyword in enumerate(keywords)}
    info = formats.maildir_info([*flags, *keywords], letters)
    assert info == "".join(sorted(info))
    by_letter = formats.read_dovecot_keywords(formats.write_dovecot_keywords(keywords))
    assert set(formats.maildir_flags(info, by_letter)) == flags | set(keywords)


@given(st.lists(st.text(min_size=1, max_size=20).filter(lambda s: "\x00" not in s), min_size=1, max_size=4))
def test_folder_names_survive_maildir_and_mbox_paths(parts: list[str]) -> None:
    assert formats.maildir_parts(formats.maildir_folder(parts)) == parts
    path = formats.mbox_file(parts)
    assert formats.mbox_parts(path) == parts
    assert not any(level.startswith(".") for level in path.split("/"))


def test_status_headers_are_found_even_folded_and_in_any_case() -> None:
    raw = b"From: a\r\nstatus: RO\r\nX-Keywords: Junk,\r\n NonJunk\r\n\r\nbody"
    flags, stripped = formats.mbox_flags(raw)
    assert flags == ["\\Seen", "Junk", "NonJunk"] and stripped == b"From: a\r\n\r\nbody"
