"""Inbound SMTP throughput with Postfix's ``smtp-source``, against any server.

``smtp-source -s S -m M -l L`` runs S sessions in parallel and sends M messages in all,
one message per connection (its default), each with a body of L bytes. Two figures come
out: *accepted* (M divided by the time smtp-source took, i.e. until the last 250 after
DATA) and *delivered* (M divided by the time until the M-th message can be read in the
recipient's mailbox). For Hexagone both are the same by design: 250 is sent only once
the message is stored. For Postfix, 250 means "in the queue, fsync'd" and delivery into
the Maildir follows. The server's CPU time per message, from the first connection to the
last delivery, is recorded too (steadier than the rates on a shared machine).
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass

from procs import load, tree_cpu

STALL_S = 30.0  # give up waiting for deliveries after this long without a new one


@dataclass
class SmtpFigures:
    server: str
    sessions: int
    messages: int
    size: int
    accepted_s: float
    delivered_s: float | None  # None: not all delivered before the timeout
    delivered: int
    cpu_s: float  # server CPU seconds from the start to the last delivery (or the timeout)
    errors: str  # what smtp-source complained about, if anything
    load: str

    @property
    def accepted_per_s(self) -> float:
        return self.messages / self.accepted_s

    @property
    def delivered_per_s(self) -> float | None:
        return self.messages / self.delivered_s if self.delivered_s else None

    @property
    def cpu_ms(self) -> float:
        """Server CPU milliseconds per message."""
        return 1000 * self.cpu_s / self.messages


def measure(
    server: str,
    port: int,
    pid: int,
    recipient: str,
    delivered: Callable[[], int],
    *,
    messages: int,
    sessions: int,
    size: int,
    sender: str = "sender@example.org",
    timeout: float = 300,
    say: Callable[[str], None] = print,
) -> SmtpFigures:
    """``delivered()`` counts the recipient's messages; it is called before smtp-source and
    then polled until they are all there. ``pid`` is the server's (master) process."""
    before = delivered()
    cpu0 = tree_cpu(pid)
    argv = [
        "smtp-source",
        "-s",
        str(sessions),
        "-m",
        str(messages),
        "-l",
        str(size),
        "-f",
        sender,
        "-t",
        recipient,
        "-M",
        "client.bench.test",
        f"127.0.0.1:{port}",
    ]
    t0 = time.perf_counter()
    out = subprocess.run(argv, capture_output=True, text=True)
    accepted_s = time.perf_counter() - t0
    errors = (out.stderr + out.stdout).strip()
    # Wait for the deliveries that follow the last 250: up to ``timeout`` after smtp-source
    # ended, and no more than STALL_S without a new message in the mailbox.
    done, count = None, before
    ended = last_progress = time.perf_counter()
    while True:
        now = delivered()
        if now != count:
            count, last_progress = now, time.perf_counter()
        if count - before >= messages:
            done = time.perf_counter() - t0
            break
        if time.perf_counter() - last_progress > STALL_S or time.perf_counter() - ended > timeout:
            break
        time.sleep(0.02)
    figures = SmtpFigures(
        server, sessions, messages, size, accepted_s, done, count - before, tree_cpu(pid) - cpu0, errors[-500:], load()
    )
    delivered_text = f"{figures.delivered_per_s:.0f} msg/s" if figures.delivered_per_s else "incomplete"
    say(
        f"  {server}: smtp-source -s {sessions} -m {messages} -l {size}: accepted {figures.accepted_per_s:.0f} msg/s, "
        f"delivered {delivered_text} ({figures.delivered}/{messages} in the mailbox), "
        f"server CPU {figures.cpu_ms:.2f} ms/msg (load {figures.load})"
        + (f"\n    smtp-source said: {errors[-300:]}" if errors else "")
    )
    return figures
