"""A remote mail server for the outbound tests: an aiosmtpd server on loopback, reached
through ``HEXAGONE_MAIL_MX_OVERRIDE``, whose answers depend on the recipient's name:

- ``bad-…``   refused for good at RCPT (``550 5.1.1``);
- ``temp-…``  refused for now (``451 4.3.0``) the first time, accepted afterwards;
- ``down-…``  refused for now, every time;
- anything else accepted.

It offers STARTTLS with a self-signed certificate and remembers what it received."""

from __future__ import annotations

import ssl
import threading
from dataclasses import dataclass
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from hexagone.core.config import Settings
from hexagone.mail import tls


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    content: bytes
    tls: bool


class SinkHandler:
    def __init__(self) -> None:
        self.received: list[Received] = []
        self.refused_once: set[str] = set()
        self.lock = threading.Lock()

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        local = address.split("@")[0].lower()
        if local.startswith("bad-"):
            return "550 5.1.1 No such user here"
        if local.startswith("down-"):
            return "451 4.3.0 Try again later"
        if local.startswith("temp-"):
            with self.lock:
                first = address not in self.refused_once
                self.refused_once.add(address)
            if first:
                return "451 4.3.0 Try again later"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        with self.lock:
            self.received.append(
                Received(
                    (envelope.mail_from or "").strip("<>"),
                    list(envelope.rcpt_tos),
                    envelope.original_content or b"",
                    session.ssl is not None,
                )
            )
        return "250 2.0.0 Accepted"

    def messages_for(self, address: str) -> list[Received]:
        with self.lock:
            return [r for r in self.received if address in r.rcpt_tos]


class Sink:
    def __init__(self, port: int, workdir: Path):
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(str(tls.self_signed(Settings(data_dir=workdir, mail_hostname="sink.remote.test"))))
        self.handler = SinkHandler()
        self.controller = Controller(
            self.handler, hostname="127.0.0.1", port=port, tls_context=context, server_hostname="sink.remote.test"
        )

    def start(self) -> None:
        self.controller.start()

    def stop(self) -> None:
        self.controller.stop()

    def messages_for(self, address: str) -> list[Received]:
        return self.handler.messages_for(address)
