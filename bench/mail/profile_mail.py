"""Where the mail servers' time goes: start Hexagone as ``run.py`` does, put one load on it
(``smtp``: smtp-source; ``stress``: the concurrent IMAP sessions of ``imap_stress``), sample
the worker with py-spy meanwhile, and print the frames with the largest share (the same
summary as ``bench/profile_request.py``). By default only the thread holding the GIL
counts (CPU spent in Python); ``--all-threads`` counts every thread py-spy sees running,
which shows where sessions wait (aiosqlite's threads, the DNS resolver's).

    .venv/bin/python bench/mail/profile_mail.py --load smtp|stress [--seconds 20] [--database sqlite|postgres]
                                                [--all-threads] [--raw stacks.txt]
"""

from __future__ import annotations

import argparse
import subprocess
import tempfile
import threading
from pathlib import Path

import hexagone_server
import imap_stress
import smtp_bench
from imap_wire import signed_in
from messages import mailbox
from procs import load_profile_request, wait_port
from run import MAILBOX, STRESS_MAILBOX, STRESS_MESSAGES, append_all, inbox_count

profile_request = load_profile_request()
PY_SPY, summarise, worker_pid = profile_request.PY_SPY, profile_request.summarise, profile_request.worker_pid


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--load", choices=["smtp", "stress"], default="smtp")
    p.add_argument("--seconds", type=int, default=20, help="how long py-spy samples")
    p.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    p.add_argument("--pg-admin", default="postgresql://postgres@127.0.0.1:5432/postgres")
    p.add_argument("--sessions", type=int, default=20, help="smtp-source sessions")
    p.add_argument("--clients", type=int, default=10, help="IMAP stress clients")
    p.add_argument("--messages", type=int, default=0, help="import this many messages into a folder first")
    p.add_argument("--all-threads", action="store_true", help="count every running thread, not the GIL holder")
    p.add_argument("--top", type=int, default=50)
    p.add_argument("--raw", type=Path, help="keep py-spy's collapsed stacks here")
    args = p.parse_args()
    with (
        tempfile.TemporaryDirectory(prefix="hexagone-profile-mail-") as tmp,
        hexagone_server.Hexagone(Path(tmp), args.database, args.pg_admin) as server,
    ):
        raw = args.raw or Path(tmp) / "stacks.txt"
        spy_argv = [
            PY_SPY,
            "record",
            "--pid",
            str(worker_pid(server.pid)),
            "--duration",
            str(args.seconds),
            "--rate",
            "200",
            *([] if args.all_threads else ["--gil"]),
            "--nonblocking",
            "--format",
            "raw",
            "--output",
            str(raw),
        ]
        spy = threading.Thread(target=subprocess.run, kwargs={"args": spy_argv, "check": True, "capture_output": True})
        if args.load == "smtp":
            wait_port(server.smtp_port, None, server.log)
            counter = signed_in(server.imap_port, hexagone_server.SMTP_RECIPIENT, hexagone_server.PASSWORD)
            spy.start()
            smtp_bench.measure(
                "Hexagone",
                server.smtp_port,
                server.pid,
                hexagone_server.SMTP_RECIPIENT,
                lambda: inbox_count(counter),
                messages=args.seconds * 200,  # more than it can take in the time
                sessions=args.sessions,
                size=5000,
                timeout=5,
            )
        else:
            wait_port(server.imap_port, None, server.log)
            user = hexagone_server.IMAP_USER
            if args.messages:
                seconds, count, _output = server.import_maildir(user, mailbox(args.messages, 2026), MAILBOX)
                print(f"imported {count} messages in {seconds:.0f} s")
            append_all(server.imap_port, user, STRESS_MAILBOX, STRESS_MESSAGES, 2026)
            spy.start()
            imap_stress.measure(
                "Hexagone",
                server.imap_port,
                server.pid,
                user,
                hexagone_server.PASSWORD,
                STRESS_MAILBOX,
                clients=args.clients,
                seconds=args.seconds,
            )
        spy.join()
        print(summarise(raw.read_text(), args.top))


if __name__ == "__main__":
    main()
