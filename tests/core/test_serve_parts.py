"""``hexagone serve --parts``: the pages and API, the protocol servers and the job worker
each in processes of their own, on one database and one event bus (Redis): a message
delivered through one process's SMTP wakes an IMAP client idling on another's."""

from __future__ import annotations

import imaplib
import smtplib
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from email.message import EmailMessage

import httpx
import pytest

from hexagone.core.config import Settings
from tests.conftest import DATA_DIR, ROOT, Server, free_port, hexagone_command, server_env
from tests.factories import TestUser
from tests.mail.factories import make_mail_user

pytestmark = pytest.mark.usefixtures("migrated")

REDIS = "redis://127.0.0.1:6379/0"


class PartsProcess:
    """A ``hexagone serve --parts …`` process without web, started by the constructor and
    ready when its IMAP port answers (:meth:`wait_ready`), so that two start side by side."""

    def __init__(self, parts: str):
        self.imap_port, self.smtp_port, self.submission_port = free_port(), free_port(), free_port()
        self.log = DATA_DIR / f"parts-{self.imap_port}.log"
        env = {
            "HEXAGONE_PUBSUB_URL": REDIS,
            "HEXAGONE_IMAP_PORT": str(self.imap_port),
            "HEXAGONE_SMTP_PORT": str(self.smtp_port),
            "HEXAGONE_SUBMISSION_PORT": str(self.submission_port),
        }
        self.process = subprocess.Popen(
            hexagone_command("serve", "--parts", parts),
            env=server_env(**env),
            cwd=ROOT,
            stdout=self.log.open("wb"),
            stderr=subprocess.STDOUT,
        )

    def wait_ready(self) -> None:
        deadline = time.monotonic() + 60
        while not accepts(self.imap_port):
            assert self.process.poll() is None, self.log.read_text()[-2000:]
            assert time.monotonic() < deadline, "the protocol process did not start"
            time.sleep(0.1)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()


def accepts(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except OSError:
        return False
    return True


@pytest.fixture(scope="module")
def protocol_processes() -> Iterator[tuple[PartsProcess, PartsProcess]]:
    first, second = PartsProcess("protocols"), PartsProcess("protocols,jobs")
    first.wait_ready()
    second.wait_ready()
    yield first, second
    for process in (first, second):
        process.stop()


@pytest.fixture(scope="module")
def web_only(start_server: Callable[..., Server]) -> Server:
    return start_server(HEXAGONE_SERVE_PARTS="web", HEXAGONE_PUBSUB_URL=REDIS)


def test_serve_parts_setting_refuses_an_unknown_part() -> None:
    assert Settings(serve_parts="protocols, jobs").parts == {"protocols", "jobs"}
    with pytest.raises(ValueError, match="choose one or more of jobs, protocols, web"):
        Settings(serve_parts="web,pop3")
    with pytest.raises(ValueError):
        Settings(serve_parts=" , ")


def test_serve_parts_option_with_an_unknown_part_exits_2_with_a_message() -> None:
    done = subprocess.run(
        hexagone_command("serve", "--parts", "web,pop3"),
        env=server_env(COLUMNS="200"),  # the error box of typer (rich) would wrap the message
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2 and "choose one or more of jobs, protocols, web" in done.stderr


def test_serve_parts_web_alone_answers_pages_and_listens_for_no_protocol(web_only: Server) -> None:
    assert httpx.get(web_only.base_url + "/readyz").status_code == 200
    assert not accepts(web_only.imap_port) and not accepts(web_only.smtp_port)


async def test_serve_parts_delivery_through_one_process_wakes_idle_on_another(
    protocol_processes: tuple[PartsProcess, PartsProcess],
) -> None:
    idling_on, delivered_through = protocol_processes
    user: TestUser = await make_mail_user()
    imap = imaplib.IMAP4("127.0.0.1", idling_on.imap_port, timeout=10)
    try:
        imap.login(user.email, user.password)
        imap.select("INBOX")
        tag = imap._new_tag()
        imap.send(tag + b" IDLE\r\n")
        assert imap.readline().startswith(b"+")
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = "someone@example.net", user.email, "across processes"
        message.set_content("Delivered by one process, heard by another.")
        with smtplib.SMTP("127.0.0.1", delivered_through.smtp_port, timeout=10) as smtp:
            smtp.send_message(message)
        imap.sock.settimeout(10)
        assert imap.readline().strip() == b"* 1 EXISTS"
        imap.send(b"DONE\r\n")
        while not (line := imap.readline()).startswith(tag):  # untagged news (RECENT) may come first
            assert line.startswith(b"* ")
        assert line.startswith(tag + b" OK")
    finally:
        imap.shutdown()
