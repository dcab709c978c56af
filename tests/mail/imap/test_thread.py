"""RFC 5256's base subject and threading algorithms, on rows of our own making."""

from __future__ import annotations

from datetime import datetime
from types import SimpleNamespace

import pytest

from hexagone.mail.imap.subject import base_subject
from hexagone.mail.imap.thread import ordered_subject, references, render


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        ("Re: hello", ("hello", True)),
        ("RE: [list] Re: hello (fwd)", ("hello", True)),
        ("[Fwd: Re: hello]", ("hello", True)),
        ("[list] hello", ("hello", False)),
        ("[list]", ("[list]", False)),
        ("Fwd:  Re:hello\t ", ("hello", True)),
        ("re [x]: y", ("y", True)),
        ("", ("", False)),
    ],
)
def test_base_subject_follows_rfc_5256_section_2_1(subject: str, expected: tuple[str, bool]) -> None:
    assert base_subject(subject) == expected


def row(uid: int, subject: str, references: str = "") -> SimpleNamespace:
    header = f"Subject: {subject}\r\nMessage-ID: <{uid}@x>\r\n" + (
        f"References: {references}\r\n" if references else ""
    )
    day = datetime(2024, 1, uid)
    return SimpleNamespace(
        uid=uid, subject=subject, message_id=f"<{uid}@x>", header=header.encode(), sent_date=day, internal_date=day
    )


ROWS = [
    row(1, "a"),
    row(2, "Re: a", "<1@x>"),
    row(3, "Re: a", "<1@x>"),
    row(4, "b"),
    row(5, "Re: b", "<gone@x>"),
    row(6, "c", "<missing@x>"),
    row(7, "c", "<missing@x>"),
    row(8, "Re: a", "<1@x> <3@x>"),
]


def test_thread_references_links_replies_and_groups_by_subject() -> None:
    assert render(references(ROWS), lambda r: r.uid) == b"(1 (2)(3 8))(4 5)((6)(7))"


def test_thread_orderedsubject_hangs_a_subject_under_its_first_message() -> None:
    assert render(ordered_subject(ROWS), lambda r: r.uid) == b"(1 (2)(3)(8))(4 5)(6 7)"


def test_thread_references_follows_a_reply_chain_deeper_than_pythons_stack() -> None:
    chain = [
        SimpleNamespace(
            uid=uid,
            subject="Re: long",
            message_id=f"<{uid}@x>",
            header=f"Subject: Re: long\r\nIn-Reply-To: <{uid - 1}@x>\r\n".encode(),
            sent_date=datetime(2024, 1, 1),
            internal_date=datetime(2024, 1, 1),
        )
        for uid in range(1, 5001)
    ]
    expected = b"(" + b" ".join(b"%d" % uid for uid in range(1, 5001)) + b")"
    assert render(references(chain), lambda r: r.uid) == expected
