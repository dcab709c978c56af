"""The benchmark mailbox: the same messages, in the same order, on every run and for every
server, so that Dovecot and Hexagone are measured on identical mail.

Message ``i`` depends only on the seed and ``i``: one message in 25 is a real one from
``../shared/corpus/mail`` (RFC examples, third-party and malformed mail, cycled), the others
are synthetic with the shape of office mail: a dozen header fields (Received, DKIM-Signature,
threading), plain text, text with an HTML alternative, or an attachment. Sizes follow a
log-normal law with a long tail (mean about 30 KB, median about 6 KB), internal dates are
spread over two years in arrival order, and flags are those of a read mailbox (80 % seen).

The words and senders that the SEARCH measures look for are planted here, in known
proportions, so that each search has a useful number of hits (see ``SEARCHES``).
"""

from __future__ import annotations

import base64
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from functools import cache
from pathlib import Path

CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpus" / "mail"
CORPUS_EVERY = 25  # one message in 25 comes from the corpus
START = datetime(2024, 1, 1, 8, 0, tzinfo=UTC)
SPAN = timedelta(days=730)
RECIPIENT = "bench@bench.test"  # rewritten per server by the loaders only in envelope, never in content

FIRST = [
    "Alice",
    "Bernard",
    "Claire",
    "David",
    "Élodie",
    "François",
    "Gabrielle",
    "Hugo",
    "Inès",
    "Julien",
    "Karim",
    "Léa",
    "Mathieu",
    "Nadia",
    "Olivier",
    "Pauline",
    "Quentin",
    "Rachida",
    "Sébastien",
    "Thomas",
    "Ursula",
    "Valérie",
    "William",
    "Xavier",
    "Yasmine",
    "Zoé",
    "Anne",
    "Paul",
    "Marie",
    "Louis",
]
LAST = [
    "Martin",
    "Bernard",
    "Dubois",
    "Thomas",
    "Robert",
    "Richard",
    "Petit",
    "Durand",
    "Leroy",
    "Moreau",
    "Simon",
    "Laurent",
    "Lefebvre",
    "Michel",
    "Garcia",
    "David",
    "Bertrand",
    "Roux",
    "Vincent",
    "Fournier",
    "Morel",
    "Girard",
    "André",
    "Lefèvre",
    "Mercier",
    "Dupont",
    "Lambert",
    "Bonnet",
    "François",
    "Martinez",
]
DOMAINS = [
    "interieur.gouv.example",
    "ville-lyon.example",
    "prefecture.example",
    "partenaire.example",
    "fournisseur.example",
    "univ-paris.example",
    "mail.example",
    "cabinet-conseil.example",
]
WORDS = [
    "le",
    "la",
    "les",
    "de",
    "des",
    "du",
    "un",
    "une",
    "et",
    "en",
    "pour",
    "dans",
    "sur",
    "avec",
    "par",
    "au",
    "aux",
    "ce",
    "cette",
    "qui",
    "que",
    "est",
    "sont",
    "a",
    "ont",
    "nous",
    "vous",
    "ils",
    "projet",
    "réunion",
    "dossier",
    "document",
    "budget",
    "rapport",
    "compte",
    "rendu",
    "semaine",
    "prochaine",
    "merci",
    "bonjour",
    "cordialement",
    "service",
    "direction",
    "agents",
    "mairie",
    "préfecture",
    "délai",
    "validation",
    "signature",
    "marché",
    "public",
    "appel",
    "offres",
    "convention",
    "subvention",
    "rentrée",
    "planning",
    "équipe",
    "formation",
    "congés",
    "the",
    "of",
    "and",
    "to",
    "in",
    "is",
    "for",
    "on",
    "with",
    "as",
    "this",
    "that",
    "be",
    "are",
    "from",
    "at",
    "by",
    "please",
    "meeting",
    "report",
    "draft",
    "review",
    "attached",
    "schedule",
    "deadline",
    "team",
    "update",
    "question",
    "thanks",
    "regards",
    "project",
    "invoice",
    "contract",
    "proposal",
    "agenda",
    "minutes",
    "follow",
    "action",
    "items",
    "next",
    "steps",
    "call",
    "tomorrow",
    "week",
    "office",
    "budget",
]
TOPICS = [
    "Réunion de service",
    "Compte rendu",
    "Budget 2025",
    "Convention de partenariat",
    "Marché public",
    "Planning des congés",
    "Formation des agents",
    "Dossier de subvention",
    "Appel d'offres",
    "Weekly update",
    "Draft report",
    "Invoice",
    "Contract review",
    "Meeting notes",
    "Project status",
    "Rentrée scolaire",
    "Note à la direction",
    "Validation du budget",
    "Demande d'information",
    "Point d'étape",
]
ATTACHMENTS = [
    ("application/pdf", "pdf"),
    ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", "docx"),
    ("image/jpeg", "jpg"),
    ("application/vnd.ms-excel", "xls"),
]

# What the SEARCH measures look for, planted at known rates in the synthetic messages.
FREQUENT_SENDER = "claire.fontaine@prefecture.example"  # sends 2 % of the mail
RARE_WORD = "hexabench"  # in the body of 1 % of the messages
SINCE = START + SPAN * 0.9  # the last tenth of the mailbox
MIDDLE = START + SPAN * 0.5
SEARCHES: list[tuple[str, str]] = [
    ("FROM", f'FROM "{FREQUENT_SENDER.split("@")[0]}"'),
    ("SUBJECT", 'SUBJECT "budget"'),
    ("SINCE", f"SINCE {SINCE:%d-%b-%Y}"),
    ("UNSEEN", "UNSEEN"),
    ("BODY", f'BODY "{RARE_WORD}"'),
    ("TEXT", f'TEXT "{RARE_WORD}"'),
    ("FROM+SINCE+UNSEEN", f'FROM "{FREQUENT_SENDER.split("@")[0]}" SINCE {MIDDLE:%d-%b-%Y} UNSEEN'),
    ("OR SUBJECT/FLAGGED", 'OR SUBJECT "invoice" FLAGGED'),
]


@dataclass(frozen=True)
class Message:
    index: int
    data: bytes  # CRLF line endings, as IMAP and SMTP carry a message
    flags: tuple[str, ...]  # IMAP system flags
    internal_date: datetime

    @property
    def imap_date(self) -> str:
        """INTERNALDATE as APPEND takes it: ``"07-Oct-1994 16:15:05 +0000"``."""
        return self.internal_date.strftime('"%d-%b-%Y %H:%M:%S +0000"')


@cache
def corpus() -> tuple[bytes, ...]:
    """The corpus messages with CRLF line endings, in a stable order."""
    files = sorted(CORPUS.rglob("*.eml"))
    if not files:
        raise SystemExit(f"no .eml files under {CORPUS}")
    return tuple(crlf(f.read_bytes()) for f in files)


def crlf(data: bytes) -> bytes:
    return data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def mailbox(count: int, seed: int = 2026) -> Iterator[Message]:
    for i in range(count):
        yield message(i, count, seed)


def message(i: int, count: int, seed: int = 2026) -> Message:
    rng = random.Random(seed * 1_000_003 + i)
    when = START + SPAN * (i / max(count, 1)) + timedelta(seconds=rng.randrange(600))
    roll = rng.random()
    flags = ("\\Seen",) if roll < 0.8 else ()
    if rng.random() < 0.03:
        flags += ("\\Flagged",)
    if flags and rng.random() < 0.1:
        flags += ("\\Answered",)
    if i % CORPUS_EVERY == CORPUS_EVERY - 1:
        real = corpus()
        data = real[(i // CORPUS_EVERY) % len(real)]
    else:
        data = synthetic(rng, i, when)
    return Message(i, data, flags, when)


def synthetic(rng: random.Random, i: int, when: datetime) -> bytes:
    sender = person(rng) if rng.random() >= 0.02 else ("Claire Fontaine", FREQUENT_SENDER)
    topic = rng.choice(TOPICS)
    subject = rng.choice(["", "", "Re: ", "TR: ", "Fwd: "]) + topic + f" #{rng.randrange(1, 400)}"
    body_words = max(40, int(rng.lognormvariate(6.4, 0.9)))  # median ~600 words, about 4 KB
    text = prose(rng, body_words, plant=rng.random() < 0.01)
    kind = rng.random()
    if kind < 0.55:
        body_headers, body = ["Content-Type: text/plain; charset=utf-8", "Content-Transfer-Encoding: 8bit"], text
    elif kind < 0.85:
        body_headers, body = alternative(rng, text)
    else:
        body_headers, body = with_attachment(rng, text)
    headers = [*envelope_headers(rng, i, when, sender, subject), "MIME-Version: 1.0", *body_headers]
    return ("\r\n".join(headers) + "\r\n\r\n").encode() + body


def person(rng: random.Random) -> tuple[str, str]:
    first, last = rng.choice(FIRST), rng.choice(LAST)
    local = f"{first}.{last}".lower().translate(str.maketrans("éèçïîô", "eeciio"))
    return f"{first} {last}", f"{local}@{rng.choice(DOMAINS)}"


def envelope_headers(rng: random.Random, i: int, when: datetime, sender: tuple[str, str], subject: str) -> list[str]:
    relay = f"mx{rng.randrange(1, 4)}.{sender[1].split('@')[1]}"
    headers = [
        f"Return-Path: <{sender[1]}>",
        f"Received: from {relay} (unknown [192.0.2.{rng.randrange(1, 255)}])\r\n\tby mx.bench.test with ESMTPS "
        f"id {rng.getrandbits(48):012x}\r\n\tfor <{RECIPIENT}>; {format_datetime(when)}",
        f"Received: from [10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(256)}]\r\n\tby {relay} "
        f"with ESMTPSA id {rng.getrandbits(40):010x}; {format_datetime(when - timedelta(seconds=2))}",
    ]
    if rng.random() < 0.5:
        signature = base64.b64encode(rng.randbytes(256)).decode()
        folded = "\r\n\t ".join(signature[n : n + 76] for n in range(0, len(signature), 76))
        headers.append(
            f"DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d={sender[1].split('@')[1]};\r\n"
            f"\ts=mail; h=from:to:subject:date:message-id;\r\n"
            f"\tbh={base64.b64encode(rng.randbytes(32)).decode()};\r\n\tb={folded}"
        )
    headers += [
        f"Date: {format_datetime(when - timedelta(seconds=3))}",
        f"From: {encode_word(sender[0])} <{sender[1]}>",
        f"To: Agent <{RECIPIENT}>",
    ]
    if rng.random() < 0.3:
        cc = [person(rng) for _ in range(rng.randrange(1, 4))]
        headers.append("Cc: " + ",\r\n\t".join(f"{encode_word(n)} <{a}>" for n, a in cc))
    headers += [
        f"Subject: {encode_word(subject)}",
        f"Message-ID: <{i}.{rng.getrandbits(64):016x}@{sender[1].split('@')[1]}>",
    ]
    if subject.startswith(("Re: ", "TR: ", "Fwd: ")):
        parent = f"<{rng.getrandbits(64):016x}@{rng.choice(DOMAINS)}>"
        headers += [f"In-Reply-To: {parent}", f"References: {parent}"]
    headers.append(f"X-Mailer: {rng.choice(['Microsoft Outlook 16.0', 'Thunderbird 128.5', 'Roundcube 1.6'])}")
    return headers


def encode_word(text: str) -> str:
    """RFC 2047 for non-ASCII display names and subjects, as mail clients send them."""
    if text.isascii():
        return text
    return "=?utf-8?b?" + base64.b64encode(text.encode()).decode() + "?="


def prose(rng: random.Random, count: int, *, plant: bool) -> bytes:
    words = rng.choices(WORDS, k=count)
    if plant:
        words[rng.randrange(count)] = RARE_WORD
    lines = [" ".join(words[n : n + 12]) for n in range(0, count, 12)]
    return ("Bonjour,\r\n\r\n" + "\r\n".join(lines) + "\r\n\r\nCordialement,\r\n").encode()


def alternative(rng: random.Random, text: bytes) -> tuple[list[str], bytes]:
    boundary = f"alt-{rng.getrandbits(64):016x}"
    html = b"<html><body><p>" + text.replace(b"\r\n\r\n", b"</p>\r\n<p>") + b"</p></body></html>\r\n"
    body = b"".join(
        [
            f"--{boundary}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n".encode(),
            text,
            f"\r\n--{boundary}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n".encode(),
            html,
            f"\r\n--{boundary}--\r\n".encode(),
        ]
    )
    return [f'Content-Type: multipart/alternative; boundary="{boundary}"'], body


def with_attachment(rng: random.Random, text: bytes) -> tuple[list[str], bytes]:
    boundary = f"mix-{rng.getrandbits(64):016x}"
    mime, ext = rng.choice(ATTACHMENTS)
    size = min(4_000_000, int(rng.lognormvariate(11.0, 1.1)))  # median ~60 KB, a few MB at most
    encoded = base64.encodebytes(rng.randbytes(size)).replace(b"\n", b"\r\n")
    body = b"".join(
        [
            f"--{boundary}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n".encode(),
            text,
            f'\r\n--{boundary}\r\nContent-Type: {mime}; name="piece-jointe.{ext}"\r\n'
            f'Content-Disposition: attachment; filename="piece-jointe.{ext}"\r\n'
            "Content-Transfer-Encoding: base64\r\n\r\n".encode(),
            encoded,
            f"--{boundary}--\r\n".encode(),
        ]
    )
    return [f'Content-Type: multipart/mixed; boundary="{boundary}"'], body


if __name__ == "__main__":
    import statistics
    import sys
    import time

    n = int(sys.argv[1]) if len(sys.argv) > 1 else 5000
    t0 = time.monotonic()
    sizes = [len(m.data) for m in mailbox(n)]
    print(
        f"{n} messages in {time.monotonic() - t0:.1f} s: total {sum(sizes) / 2**20:.0f} MiB, "
        f"mean {statistics.mean(sizes) / 1024:.1f} KiB, median {statistics.median(sizes) / 1024:.1f} KiB, "
        f"max {max(sizes) / 2**20:.1f} MiB"
    )
