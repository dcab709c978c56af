"""Hexagone's mail servers against Dovecot and Postfix on the same machine (issue #4):

* IMAP: FETCH of headers, of the message list and of full bodies, and SEARCH, on a mailbox
  of ``--messages`` messages (50,000 by default), Hexagone against Dovecot;
* SMTP: inbound messages per second with Postfix's ``smtp-source``, Hexagone against
  Postfix delivering into a Maildir, both with fsync;
* memory per idle IMAP connection at ``--idle-connections`` connections.

Dovecot and Postfix are Debian's, started here with their own configuration under a
temporary directory on loopback ports and stopped at the end; Hexagone is started with a
fresh data directory, the demo organisation's users being the mailboxes. Dovecot gets the
messages written into its Maildir; Hexagone gets them through its bulk loader, ``hexagone
mail import`` from a Maildir (``--load append``: by IMAP APPEND, as a client would); both
times are printed. Then each server gets ``--append`` more messages by pipelined IMAP
APPEND. Figures are printed as they come, then as one table.
Run as root (Dovecot's and Postfix's masters switch users), with the project's venv:

    .venv/bin/python bench/mail/run.py [--messages 50000] [--parts imap,stress,smtp,idle]
                                       [--servers peers,hexagone] [--json results.json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import dovecot
import hexagone_server
import idle
import imap_bench
import imap_stress
import messages
import postfix
import smtp_bench
from imap_wire import Connection
from procs import free_port, load, raise_open_files, wait_port

PEER_USER, PEER_PASSWORD = "bench@bench.test", "bench-password"
PEER_IDLE_USER = "idle@bench.test"
PEER_SMTP_RECIPIENT = "inbound@bench.test"
MAILBOX = "Bench"  # a folder of its own: Hexagone's demo users already have mail in INBOX
IDLE_MAILBOX = 100  # messages in the INBOX the idle connections select
STRESS_MAILBOX = "Stress"  # the folder the concurrent sessions share
STRESS_MESSAGES = 200
TARGET = 0.5  # Hexagone's throughput must be at least half the peer's


@dataclass
class Side:
    name: str
    version: str = ""
    load_s: float | None = None  # putting the benchmark mailbox in place
    load_refused: list[tuple[int, str]] = field(default_factory=list)  # message index, the server's answer
    imap: imap_bench.ImapFigures | None = None
    stress: imap_stress.StressFigures | None = None
    smtp: list[smtp_bench.SmtpFigures] = field(default_factory=list)
    idle: idle.IdleFigures | None = None
    notes: list[str] = field(default_factory=list)


def say(text: str) -> None:
    print(text, flush=True)


# --------------------------------------------------------------------------- Dovecot and Postfix


def run_peers(args: argparse.Namespace, tmp: Path) -> Side:
    side = Side("Dovecot / Postfix", f"Dovecot {dovecot.version()}, Postfix {postfix.version()}")
    if {"imap", "stress", "idle"} & set(args.parts):
        if why := dovecot.available():
            side.notes.append(why)
        else:
            users = {PEER_USER: PEER_PASSWORD, PEER_IDLE_USER: PEER_PASSWORD}
            with dovecot.Dovecot(tmp / "dovecot", free_port(), users, args.idle_connections) as server:
                say(f"Dovecot on port {server.port} ({tmp / 'dovecot'}):")
                if "imap" in args.parts:
                    t0 = time.perf_counter()
                    server.write_maildir(PEER_USER, messages.mailbox(args.messages, args.seed), MAILBOX)
                    side.load_s = time.perf_counter() - t0
                    say(f"  wrote {args.messages} messages into the Maildir in {side.load_s:.1f} s")
                    side.imap = imap_bench.measure(
                        "Dovecot",
                        server.port,
                        server.pid,
                        PEER_USER,
                        PEER_PASSWORD,
                        MAILBOX,
                        repeat=args.repeat,
                        chunk=args.chunk,
                        expected_bytes=mailbox_bytes(args),
                        append=args.append,
                        seed=args.seed,
                        say=say,
                    )
                if "stress" in args.parts:
                    server.write_maildir(PEER_USER, messages.mailbox(STRESS_MESSAGES, args.seed), STRESS_MAILBOX)
                    side.stress = stress(args, "Dovecot", server.port, server.pid, PEER_USER, PEER_PASSWORD)
                if "idle" in args.parts:
                    server.write_maildir(PEER_IDLE_USER, messages.mailbox(IDLE_MAILBOX, args.seed))
                    side.idle = idle.measure(
                        "Dovecot",
                        server.port,
                        server.pid,
                        PEER_IDLE_USER,
                        PEER_PASSWORD,
                        connections=args.idle_connections,
                        say=say,
                    )
    if "smtp" in args.parts:
        if why := postfix.available():
            side.notes.append(why)
        else:
            with postfix.Postfix(tmp / "postfix", free_port(), [PEER_SMTP_RECIPIENT]) as server:
                say(f"Postfix on port {server.port} ({tmp / 'postfix'}):")
                for sessions in args.smtp_sessions:
                    side.smtp.append(
                        smtp_bench.measure(
                            "Postfix",
                            server.port,
                            server.pid,
                            PEER_SMTP_RECIPIENT,
                            lambda: server.delivered(PEER_SMTP_RECIPIENT),
                            messages=args.smtp_messages,
                            sessions=sessions,
                            size=args.smtp_size,
                            say=say,
                        )
                    )
                if server.queued():
                    side.notes.append(f"Postfix still had {server.queued()} messages queued at the end")
    return side


def stress(
    args: argparse.Namespace, name: str, port: int, pid: int, user: str, password: str
) -> imap_stress.StressFigures:
    return imap_stress.measure(
        name,
        port,
        pid,
        user,
        password,
        STRESS_MAILBOX,
        clients=args.stress_clients,
        seconds=args.stress_seconds,
        seed=args.seed,
        say=say,
    )


# --------------------------------------------------------------------------- Hexagone


def inbox_count(conn: Connection) -> int:
    """Messages in INBOX, by STATUS over a connection that stays logged in (a login per
    poll would cost the server a password check each time)."""
    answer = conn.command("STATUS INBOX (MESSAGES)", keep=True)
    for line in answer.lines:
        words = line.replace(b"(", b" ").replace(b")", b" ").split()
        if b"MESSAGES" in words:
            return int(words[words.index(b"MESSAGES") + 1])
    raise RuntimeError(f"no MESSAGES in {answer.lines!r}")


def mailbox_bytes(args: argparse.Namespace, left_out: Iterable[int] = ()) -> int:
    """The size of the benchmark mailbox, as IMAP counts it, without the messages left out."""
    skip = set(left_out)
    return sum(len(m.data) for m in messages.mailbox(args.messages, args.seed) if m.index not in skip)


def append_all(port: int, user: str, mailbox: str, count: int, seed: int) -> tuple[float, list[tuple[int, str]]]:
    """APPEND the benchmark messages through IMAP (creating the folder unless it is INBOX);
    returns seconds and the server's answers to the messages it refused."""
    conn = Connection("127.0.0.1", port)
    conn.login(user, hexagone_server.PASSWORD)
    if mailbox != "INBOX":
        conn.command(f"CREATE {mailbox}")
    t0 = time.perf_counter()
    refused = conn.append(mailbox, messages.mailbox(count, seed))
    seconds = time.perf_counter() - t0
    conn.logout()
    return seconds, refused


def listening(side: Side, port: int, what: str, server: hexagone_server.Hexagone) -> bool:
    """Whether Hexagone listens on the port; said once in the notes if it does not."""
    note = f"Hexagone's {what} listener did not come up"
    if any(n.startswith(note) for n in side.notes):
        return False
    try:
        wait_port(port, server.server.proc if server.server else None, server.log, timeout=server.listen_timeout)
        return True
    except RuntimeError as error:
        side.notes.append(f"{note}: {error} (--keep keeps the log)")
        say(f"  {side.notes[-1]}")
        return False


def run_hexagone(args: argparse.Namespace, tmp: Path) -> Side:
    side = Side("Hexagone", f"Hexagone {git_head()} on {args.database}")
    with hexagone_server.Hexagone(tmp / "hexagone", args.database, args.pg_admin) as server:
        say(f"Hexagone (IMAP {server.imap_port}, SMTP {server.smtp_port}, {args.database}; log {server.log}):")
        password = hexagone_server.PASSWORD
        if "imap" in args.parts and listening(side, server.imap_port, "IMAP", server):
            if args.load == "import":
                side.load_s, count, output = server.import_maildir(
                    hexagone_server.IMAP_USER, messages.mailbox(args.messages, args.seed), MAILBOX
                )
                say(
                    f"  hexagone mail import: {count} messages in {side.load_s:.1f} s ({count / side.load_s:.0f} msg/s)"
                )
                say("    " + output.replace("\n", "\n    "))
            else:
                side.load_s, side.load_refused = append_all(
                    server.imap_port, hexagone_server.IMAP_USER, MAILBOX, args.messages, args.seed
                )
                say(
                    f"  APPENDed {args.messages} messages in {side.load_s:.1f} s "
                    f"({args.messages / side.load_s:.0f} msg/s), {len(side.load_refused)} refused"
                    + "".join(f"\n    message {i}: {answer}" for i, answer in side.load_refused)
                )
            expected = mailbox_bytes(args, (i for i, _answer in side.load_refused))
            side.imap = imap_bench.measure(
                "Hexagone",
                server.imap_port,
                server.pid,
                hexagone_server.IMAP_USER,
                password,
                MAILBOX,
                repeat=args.repeat,
                chunk=args.chunk,
                expected_bytes=expected,
                append=args.append,
                seed=args.seed,
                say=say,
            )
        if "stress" in args.parts and listening(side, server.imap_port, "IMAP", server):
            user = hexagone_server.IMAP_USER
            append_all(server.imap_port, user, STRESS_MAILBOX, STRESS_MESSAGES, args.seed)
            side.stress = stress(args, "Hexagone", server.imap_port, server.pid, user, password)
        if "idle" in args.parts and listening(side, server.imap_port, "IMAP", server):
            append_all(server.imap_port, hexagone_server.IDLE_USER, "INBOX", IDLE_MAILBOX, args.seed)
            side.idle = idle.measure(
                "Hexagone",
                server.imap_port,
                server.pid,
                hexagone_server.IDLE_USER,
                password,
                connections=args.idle_connections,
                say=say,
            )
        if "smtp" in args.parts and listening(side, server.smtp_port, "SMTP", server):
            rcpt = hexagone_server.SMTP_RECIPIENT
            counter = Connection("127.0.0.1", server.imap_port)
            counter.login(rcpt, password)
            for sessions in args.smtp_sessions:
                side.smtp.append(
                    smtp_bench.measure(
                        "Hexagone",
                        server.smtp_port,
                        server.pid,
                        rcpt,
                        lambda: inbox_count(counter),
                        messages=args.smtp_messages,
                        sessions=sessions,
                        size=args.smtp_size,
                        say=say,
                    )
                )
            counter.logout()
    return side


def git_head() -> str:
    head = Path(__file__).resolve().parents[2] / ".git"
    with open(head / "HEAD") as f:
        ref = f.read().strip()
    if ref.startswith("ref: "):
        path = head / ref[5:]
        return path.read_text().strip()[:10] if path.exists() else ref[5:]
    return ref[:10]


# --------------------------------------------------------------------------- report


@dataclass
class Row:
    metric: str
    peer: float | None
    ours: float | None
    higher_is_better: bool = True
    target: bool = True  # a throughput the ≥ 0.5 target applies to
    peer_cpu_ms: float | None = None  # server CPU per message or per search
    ours_cpu_ms: float | None = None
    wrong: bool = False  # Hexagone's answer was wrong (see the notes)


def rows(peer: Side, ours: Side) -> list[Row]:
    out: list[Row] = []
    pi, oi = peer.imap, ours.imap
    for i, (name, _items, per_byte) in enumerate(imap_bench.FETCHES):
        p = pi.fetches[i] if pi else None
        o = oi.fetches[i] if oi else None
        wrong = bool((o and o.wrong) or (p and p.wrong))
        out.append(
            Row(
                f"IMAP {name}, messages/s",
                p and p.per_s,
                o and o.per_s,
                peer_cpu_ms=p and p.cpu_ms,
                ours_cpu_ms=o and o.cpu_ms,
                wrong=wrong,
            )
        )
        if per_byte:
            out.append(Row(f"IMAP {name}, MiB/s", p and p.mib_per_s, o and o.mib_per_s, wrong=wrong))
    for i, (name, _criteria) in enumerate(messages.SEARCHES):
        p = pi.searches[i] if pi else None
        o = oi.searches[i] if oi else None
        hits = "/".join(str(x.items) if x else "-" for x in (p, o))
        out.append(
            Row(
                f"IMAP SEARCH {name}, searches/s (hits {hits})",
                p and p.per_s,
                o and o.per_s,
                peer_cpu_ms=p and p.cpu_ms,
                ours_cpu_ms=o and o.cpu_ms,
            )
        )
    pa, oa = pi and pi.append, oi and oi.append
    if pa or oa:
        out.append(
            Row(
                "IMAP APPEND into the loaded folder, messages/s",
                pa and pa.per_s,
                oa and oa.per_s,
                peer_cpu_ms=pa and pa.cpu_ms,
                ours_cpu_ms=oa and oa.cpu_ms,
            )
        )
    if peer.load_s and ours.load_s:
        out.append(
            Row(
                "loading the folder (Dovecot: Maildir written; Hexagone: hexagone mail import), messages/s",
                (pi.messages if pi else 0) / peer.load_s or None,
                (oi.messages if oi else 0) / ours.load_s or None,
                target=False,
            )
        )
    out.append(
        Row(
            "IMAP first SELECT after loading, s",
            pi and pi.first_select_s,
            oi and oi.first_select_s,
            higher_is_better=False,
            target=False,
        )
    )
    ps, os_ = peer.stress, ours.stress
    if ps or os_:
        out.append(
            Row(
                "IMAP stress, full sessions/s",
                ps and ps.sessions_per_s,
                os_ and os_.sessions_per_s,
                peer_cpu_ms=ps and ps.cpu_ms_per_session,
                ours_cpu_ms=os_ and os_.cpu_ms_per_session,
            )
        )
        for command in imap_stress.COMMANDS:
            out.append(
                Row(
                    f"IMAP stress {command}, median ms",
                    ps and ps.median_ms(command),
                    os_ and os_.median_ms(command),
                    higher_is_better=False,
                    target=False,
                )
            )
            out.append(
                Row(
                    f"IMAP stress {command}, per connection per s (1000 ÷ median ms)",
                    ps and ps.rate(command),
                    os_ and os_.rate(command),
                    target=command not in ("LOGIN", "LOGOUT", "SELECT"),
                )
            )
    for sessions in sorted({s.sessions for s in peer.smtp + ours.smtp}):
        p = next((s for s in peer.smtp if s.sessions == sessions), None)
        o = next((s for s in ours.smtp if s.sessions == sessions), None)
        out.append(
            Row(
                f"SMTP -s {sessions}: accepted (250 after DATA), messages/s",
                p and p.accepted_per_s,
                o and o.accepted_per_s,
            )
        )
        out.append(
            Row(
                f"SMTP -s {sessions}: delivered into the mailbox, messages/s",
                p and p.delivered_per_s,
                o and o.delivered_per_s,
                peer_cpu_ms=p and p.cpu_ms,
                ours_cpu_ms=o and o.cpu_ms,
            )
        )
    pd, od = peer.idle, ours.idle
    out.append(
        Row(
            "idle IMAP connection, RSS KiB each",
            pd and pd.rss_kib_per_connection,
            od and od.rss_kib_per_connection,
            higher_is_better=False,
            target=False,
        )
    )
    out.append(
        Row(
            "idle IMAP connection, PSS KiB each",
            pd and pd.pss_kib_per_connection,
            od and od.pss_kib_per_connection,
            higher_is_better=False,
            target=False,
        )
    )
    return out


def fmt(x: float | None) -> str:
    if x is None:
        return "-"
    if abs(x) >= 100:
        return f"{x:,.0f}"
    return f"{x:.1f}" if abs(x) >= 10 else f"{x:.2f}" if abs(x) >= 0.1 else f"{x:.3f}"


def ratio(numerator: float | None, denominator: float | None) -> float | None:
    return numerator / denominator if numerator is not None and denominator else None


def table(peer: Side, ours: Side) -> str:
    """Hexagone ÷ peer for the figures; peer ÷ Hexagone for CPU, so that both ratios read the
    same way (1 = as good, 0.5 = the target) and the CPU one is what the throughput ratio
    would be on an idle machine where both servers are CPU-bound."""
    lines = [
        "| metric | Dovecot / Postfix | Hexagone | Hexagone ÷ peer | target ≥ 0.5 | "
        "server CPU ms/op, peer | server CPU ms/op, Hexagone | peer CPU ÷ Hexagone CPU |",
        "|---|---:|---:|---:|:---:|---:|---:|---:|",
    ]
    for row in rows(peer, ours):
        r = ratio(row.ours, row.peer)
        verdict = "" if r is None or not row.target else ("✓" if r >= TARGET else "✗")
        verdict = "wrong answer" if row.wrong else verdict
        metric = row.metric + ("" if row.higher_is_better else " (lower is better)")
        cpu_ratio = ratio(row.peer_cpu_ms, row.ours_cpu_ms)
        lines.append(
            f"| {metric} | {fmt(row.peer)} | {fmt(row.ours)} | {fmt(r)} | {verdict} | "
            f"{fmt(row.peer_cpu_ms)} | {fmt(row.ours_cpu_ms)} | {fmt(cpu_ratio)} |"
        )
    return "\n".join(lines)


def summary(side: Side) -> str:
    parts = [f"{side.name}: {side.version}"]
    if side.load_s is not None:
        refused = f" ({len(side.load_refused)} refused)" if side.load_refused else ""
        parts.append(f"mailbox loaded in {side.load_s:.1f} s{refused}")
    if side.imap and side.imap.problems:
        parts += [f"WRONG ANSWER, the figure does not count: {p}" for p in side.imap.problems]
    loads = [x.load for x in (side.imap, side.stress, side.idle, *side.smtp) if x is not None]
    if loads:
        parts.append("load average after each measure: " + "; ".join(loads))
    return " — ".join(parts) + "".join(f"\n  note: {n}" for n in side.notes)


# --------------------------------------------------------------------------- main


def csv(kind: type) -> object:
    return lambda text: [kind(x) for x in text.split(",") if x]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--messages", type=int, default=50_000, help="messages in the IMAP mailbox (default 50000)")
    p.add_argument("--seed", type=int, default=2026, help="the mailbox is the same for the same seed")
    p.add_argument("--repeat", type=int, default=3, help="runs of each IMAP measure; the median is kept")
    p.add_argument("--chunk", type=int, default=500, help="UIDs per FETCH command (default 500)")
    p.add_argument("--append", type=int, default=1000, help="messages APPENDed to the loaded folder at the end")
    p.add_argument(
        "--load",
        choices=["import", "append"],
        default="import",
        help="how Hexagone's folder is filled: hexagone mail import from a Maildir (timed), or IMAP APPEND",
    )
    p.add_argument("--smtp-messages", type=int, default=5000, help="messages per smtp-source run")
    p.add_argument("--smtp-sessions", type=csv(int), default=[10], help="parallel sessions, e.g. 1,10")
    p.add_argument("--smtp-size", type=int, default=4000, help="smtp-source body length in bytes")
    p.add_argument("--idle-connections", type=int, default=1000)
    p.add_argument("--stress-clients", type=int, default=10, help="concurrent IMAP sessions of the stress part")
    p.add_argument("--stress-seconds", type=float, default=30, help="length of the stress part")
    p.add_argument("--parts", type=csv(str), default=["imap", "stress", "smtp", "idle"])
    p.add_argument("--servers", type=csv(str), default=["peers", "hexagone"])
    p.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite", help="Hexagone's database")
    p.add_argument(
        "--pg-admin", default=os.environ.get("BENCH_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/postgres")
    )
    p.add_argument(
        "--tmp", type=Path, default=Path(tempfile.gettempdir()), help="where the data goes (deleted at the end)"
    )
    p.add_argument("--keep", action="store_true", help="keep the temporary directory (logs, Maildirs, database)")
    p.add_argument("--json", type=Path, help="write every figure to this file")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    raise_open_files(args.idle_connections + 500)
    say(
        f"machine: {os.cpu_count()} CPUs, Python {platform.python_version()}, load average {load()}; "
        f"the clients (this script, smtp-source) run on the same CPUs as the servers."
    )
    sample = [len(m.data) for m in messages.mailbox(min(args.messages, 2000), args.seed)]
    say(
        f"mailbox: {args.messages} messages, mean size about {sum(sample) / len(sample) / 1024:.1f} KiB "
        f"(one in {messages.CORPUS_EVERY} from {messages.CORPUS})"
    )
    tmp = Path(tempfile.mkdtemp(prefix="hexagone-bench-mail-", dir=args.tmp))
    os.chmod(tmp, 0o755)  # Dovecot's and Postfix's service users must reach their directories
    peer, ours = Side("Dovecot / Postfix"), Side("Hexagone")
    try:
        if "peers" in args.servers:
            peer = run_peers(args, tmp)
        if "hexagone" in args.servers:
            try:
                ours = run_hexagone(args, tmp)
            except RuntimeError as error:
                ours.notes.append(str(error))
                say(f"Hexagone: {error}")
    finally:
        if args.keep:
            say(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    say("")
    say(table(peer, ours))
    say("")
    say(summary(peer))
    say(summary(ours))
    if args.json:
        args.json.write_text(
            json.dumps(
                {"peer": asdict(peer), "hexagone": asdict(ours), "args": {k: str(v) for k, v in vars(args).items()}},
                indent=2,
            )
        )


if __name__ == "__main__":
    sys.exit(main())
