"""Private Redis and NATS servers, for the tests that stop and restart one (the shared
servers on the standard ports must stay up for everyone)."""

from __future__ import annotations

import socket
import subprocess
import time

from tests.conftest import free_port

COMMANDS = {
    "redis": ["redis-server", "--bind", "127.0.0.1", "--port", "{port}", "--save", "", "--appendonly", "no"],
    "nats": ["/usr/sbin/nats-server", "-a", "127.0.0.1", "-p", "{port}"],
}
SCHEMES = {"redis": "redis://127.0.0.1:{port}/0", "nats": "nats://127.0.0.1:{port}"}


class Broker:
    """A broker process on a port of its own, which a test may stop and start again."""

    def __init__(self, kind: str):
        self.kind = kind
        self.port = free_port()
        self.url = SCHEMES[kind].format(port=self.port)
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        command = [part.format(port=self.port) for part in COMMANDS[self.kind]]
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{self.kind} did not start on port {self.port}") from None
                time.sleep(0.05)

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None
