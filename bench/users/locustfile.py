"""Agents at work, for Locust: each simulated user signs in once through the login form,
then, thinking 5 to 15 s between actions, opens the shell, the webmail's inbox list and
its messages, searches, calls the API and sends mail, while a mail client of theirs keeps
an IMAP connection in IDLE on their INBOX.

What a browser fetches is fetched: a page brings the shell's badges (``hx-trigger="load"``,
one request for the notifications and the unread mail count) and, at most once a minute, ``/branding.css``
(``max-age=60``); a message page brings its body's frame. Static files are left out (a
browser keeps them: their names carry their digest).

A message is sent through the JSON API to another user of the run, its send time in the
subject. The recipient's IDLE connection reports it (``* n EXISTS``); the client leaves
IDLE, reads the subject and files the delay between sending and the notice as
``IMAP new mail notice``, then idles again.

Run by ``run.py``, which passes the plan and the accounts in ``HEXBENCH_*`` variables;
``start_locust`` there says what they are. Requests are named ``<phase> | <request>``
(``schedule.SEPARATOR``) so that the hold is measured apart from the ramp.
"""

from __future__ import annotations

import itertools
import os
import random
import re
import time

import gevent
from gevent.lock import Semaphore
from imap_idle import IdleClient, ImapError
from locust import LoadTestShape, between, events, task
from locust.contrib.fasthttp import FastHttpUser
from locust.runners import MasterRunner, WorkerRunner
from schedule import SEPARATOR, Plan

PLAN = Plan.from_env()
T0 = float(os.environ["HEXBENCH_T0"])
ACCOUNTS = int(os.environ["HEXBENCH_ACCOUNTS"])
DOMAIN = os.environ["HEXBENCH_DOMAIN"]
PASSWORD = os.environ["HEXBENCH_PASSWORD"]
IMAP_PORT = int(os.environ["HEXBENCH_IMAP_PORT"])
PROCESSES = max(int(os.environ.get("HEXBENCH_PROCESSES", "1")), 1)
REIDLE_SECONDS = 25 * 60  # RFC 2177: re-issue IDLE at least every 29 minutes

CSRF = re.compile(r'data-csrf="([^"]+)"')
MESSAGE_LINK = re.compile(r'href="(/mail/messages/[0-9a-f-]{36})"')
SENT_AT = re.compile(r"\[bench t=([\d.]+)\]")
SEARCHES = ["budget", "réunion", "convention", "planning", "formation", "subvention", "facture", "agent"]
SUBJECTS = ["Point d'étape", "Compte rendu", "Note à la direction", "Demande d'information", "Réunion de service"]
HTMX = {"HX-Request": "true"}

_local_numbers = itertools.count()
_numbers_lock = Semaphore()


def phase_label() -> str:
    phase = PLAN.at(time.time() - T0)
    return phase.label if phase else "after"


def named(request: str) -> str:
    return f"{phase_label()}{SEPARATOR}{request}"


def address(index: int) -> str:
    return f"agent{index + 1:04d}@{DOMAIN}"  # seed.address


def population() -> int:
    """Users the plan wants now: whom mail can be sent to."""
    phase = PLAN.at(time.time() - T0)
    return min(phase.users if phase else PLAN.steps[-1], ACCOUNTS)


class Agent(FastHttpUser):
    wait_time = between(5, 15)
    network_timeout = 60.0
    connection_timeout = 60.0

    def on_start(self) -> None:
        runner = self.environment.runner
        worker = runner.worker_index if isinstance(runner, WorkerRunner) else 0
        with _numbers_lock:
            local = next(_local_numbers)
        self.index = (worker + PROCESSES * local) % ACCOUNTS
        self.email = address(self.index)
        self.csrf = ""
        self.inbox = ""
        self.messages: list[str] = []
        self.branding_at = 0.0
        self.imap: gevent.Greenlet | None = None
        self.signed_in = self.sign_in()
        self.imap = gevent.spawn(self.idle_forever)

    def on_stop(self) -> None:
        if self.imap is not None:
            self.imap.kill(block=False)

    # --- the web --------------------------------------------------------------------

    def sign_in(self) -> bool:
        """The login form, then the shell and the webmail's address of the INBOX; False
        (the failure recorded) when it did not work: the next action tries again."""
        with self.client.get("/login", name=named("GET /login"), catch_response=True) as r:
            token = re.search(r'name="csrf_token" value="([^"]+)"', r.text or "")
            if r.status_code != 200 or token is None:
                r.failure(f"login page: {r.status_code}, token {'found' if token else 'missing'}")
                return False
        form = {"email": self.email, "password": PASSWORD, "csrf_token": token.group(1), "next": "/"}
        with self.client.post(
            "/login", data=form, name=named("POST /login"), allow_redirects=False, catch_response=True
        ) as r:
            if r.status_code != 303 or "/login" in (r.headers.get("location") or ""):
                r.failure(f"sign-in refused: {r.status_code}")
                return False
        self.page("/", "GET / (shell)")
        with self.client.get(
            "/mail/", name=named("GET /mail/ (to the inbox)"), allow_redirects=False, catch_response=True
        ) as r:
            self.inbox = r.headers.get("location") or ""
            if r.status_code != 303 or not self.inbox.startswith("/mail/folders/"):
                r.failure(f"{r.status_code} {self.inbox}")
                return False
        return True

    def signed_in_or_retry(self) -> bool:
        if not self.signed_in:
            self.signed_in = self.sign_in()
            return False
        return True

    def page(self, path: str, request: str) -> str:
        """A page as a browser loads it: the HTML, then what it asks for on load."""
        with self.client.get(path, name=named(request), allow_redirects=False, catch_response=True) as r:
            if r.status_code != 200:
                r.failure(f"{r.status_code} {r.headers.get('location') or ''}")
                return ""
            text = r.text or ""
        if token := CSRF.search(text):
            self.csrf = token.group(1)
        self.client.get("/shell/badges", name=named("GET /shell/badges"), headers=HTMX)
        if time.monotonic() - self.branding_at > 60:
            self.client.get("/branding.css", name=named("GET /branding.css"))
            self.branding_at = time.monotonic()
        return text

    @task(1)
    def shell(self) -> None:
        if not self.signed_in_or_retry():
            return
        self.page("/", "GET / (shell)")

    @task(3)
    def inbox_list(self) -> None:
        if not self.signed_in_or_retry():
            return
        text = self.page(self.inbox, "GET /mail/folders/[inbox] (list)")
        found = MESSAGE_LINK.findall(text)
        if found:
            self.messages = list(dict.fromkeys(found))

    @task(3)
    def read_message(self) -> None:
        if not self.signed_in_or_retry():
            return
        if not self.messages:
            self.inbox_list()
            return
        path = random.choice(self.messages)
        self.page(path, "GET /mail/messages/[id]")
        self.client.get(path + "/frame", name=named("GET /mail/messages/[id]/frame"))

    @task(1)
    def search(self) -> None:
        if not self.signed_in_or_retry():
            return
        self.page(f"/search?q={random.choice(SEARCHES)}", "GET /search?q=…")

    @task(1)
    def me(self) -> None:
        if not self.signed_in_or_retry():
            return
        self.client.get("/api/v1/me", name=named("GET /api/v1/me"))

    @task(1)
    def send(self) -> None:
        if not self.signed_in_or_retry():
            return
        others = population()
        to = random.randrange(others)
        if to == self.index and others > 1:
            to = (to + 1) % others
        body = {
            "to": [address(to)],
            "subject": f"{random.choice(SUBJECTS)} [bench t={time.time():.3f}]",
            "text": "Bonjour,\n\nVoici le point demandé.\n\nCordialement,\n" + self.email + "\n",
        }
        self.client.post(
            "/api/v1/mail/send", json=body, headers={"X-CSRF-Token": self.csrf}, name=named("POST /api/v1/mail/send")
        )

    # --- the mail client ------------------------------------------------------------

    def record(self, name: str, started: float, error: Exception | None = None, ms: float | None = None) -> None:
        self.environment.events.request.fire(
            request_type="IMAP",
            name=named(name),
            response_time=ms if ms is not None else (time.perf_counter() - started) * 1000,
            response_length=0,
            exception=error,
            context={},
        )

    def idle_forever(self) -> None:
        """Connect, sign in, select INBOX and idle until the user stops; a lost connection is
        an error, and the client connects again 5 s later as a mail client would."""
        host = (self.host or "").split("://", 1)[-1].split(":", 1)[0].strip("/")
        while True:
            client = None
            started = time.perf_counter()
            step = "IMAP connect + LOGIN"
            try:
                client = IdleClient(host, IMAP_PORT)
                client.login(self.email, PASSWORD)
                self.record("IMAP connect + LOGIN", started)
                step, started = "IMAP SELECT INBOX", time.perf_counter()
                count = client.select()
                self.record("IMAP SELECT INBOX", started)
                while True:
                    step, started = "IMAP IDLE", time.perf_counter()
                    client.idle()
                    new = client.wait(REIDLE_SECONDS)
                    noticed = time.time()
                    step, started = "IMAP DONE", time.perf_counter()
                    client.done()
                    if new is None or new <= count:
                        count = new if new is not None else count
                        continue
                    self.record("IMAP DONE", started)
                    step, started = "IMAP FETCH new subject", time.perf_counter()
                    subject = client.subject(new)
                    self.record("IMAP FETCH new subject", started)
                    count = new
                    if sent := SENT_AT.search(subject):
                        self.record("IMAP new mail notice", 0, ms=max(noticed - float(sent.group(1)), 0) * 1000)
            except (OSError, ImapError) as exc:
                self.record(step, started, exc)
            finally:
                if client is not None:
                    client.close()
            gevent.sleep(5)


# --- the load's shape: the plan's ramp, settling time and hold, then stop ----------------


class Steps(LoadTestShape):
    use_common_options = False

    def tick(self) -> tuple[int, float] | None:
        phase = PLAN.at(max(time.time() - T0, 0.0))
        return None if phase is None else (phase.users, PLAN.spawn_rate)


@events.init.add_listener
def _announce(environment, **_kwargs) -> None:  # type: ignore[no-untyped-def]
    if not isinstance(environment.runner, WorkerRunner):
        kind = "master" if isinstance(environment.runner, MasterRunner) else "local"
        print(f"users-per-box plan ({kind}): {PLAN.steps}, {PLAN.seconds:.0f} s", flush=True)
