"""The servers the CalDAV/CardDAV benchmark measures: Radicale (the peer) and Hexagone.

* **Radicale** (PyPI ``radicale``, pinned in ``bench/requirements.txt``), run with this
  venv's Python on a loopback port: its configuration, its storage folder (the default
  ``multifilesystem``, fsync on) and its log in a throw-away folder; ``auth = none`` (any
  user name, no password check), ``rights = owner_only``, its web interface on (only so that
  ``GET /.web/`` tells when it is ready), its built-in server (HTTP/1.0,
  one thread per connection) unless ``--radicale-server hypercorn``.
* **Hexagone**, started the way ``bench/mail`` starts it (``bench/run.py``'s helpers): a
  fresh data directory on the embedded default (SQLite) or a fresh PostgreSQL database,
  ``hexagone migrate``, an organisation and a user made with ``hexagone org create`` and
  ``hexagone user create``, then ``hexagone serve``; or any server given by URL.

Both are reached only through the standard discovery (``dav.Client.discover``).
"""

from __future__ import annotations

import contextlib
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "mail"))
from procs import free_port, load, load_profile_request, tree_cpu, web  # noqa: F401  (bench/run.py's helpers, as bench/mail uses them)

BENCH_DOMAIN = "calbench.hexagone.test"
BENCH_USER = f"bench@{BENCH_DOMAIN}"
BENCH_PASSWORD = "Hexagone-bench-2026"
RADICALE_USER = "bench"


@dataclass
class Target:
    name: str
    base: str
    user: str
    password: str
    pid: int | None  # the server's process, for its CPU time; None for a server given by URL
    version: str
    storage: Path | None = None  # where a collection's files are (Radicale's collection-root), if any


def radicale_version() -> str:
    from importlib.metadata import version

    return f"Radicale {version('radicale')}"


RADICALE_CONFIG = """\
[server]
hosts = 127.0.0.1:{port}
type = {server}
max_connections = 20
[auth]
type = none
[rights]
type = owner_only
[storage]
filesystem_folder = {folder}
[web]
type = internal
[logging]
level = warning
mask_passwords = True
"""


@contextlib.contextmanager
def radicale(root: Path, server: str = "builtin"):  # type: ignore[no-untyped-def]
    """Radicale on a free loopback port with an empty storage folder under ``root``."""
    root.mkdir(parents=True, exist_ok=True)
    port = free_port()
    config = root / "config"
    config.write_text(RADICALE_CONFIG.format(port=port, server=server, folder=root / "collections"))
    argv = [sys.executable, "-m", "radicale", "--config", str(config)]
    with web.Server(
        argv, web.hexagone_env(root, web.Database("sqlite", None)), port, "/.web/", root / "radicale.log"
    ) as s:
        version = f"{radicale_version()} ({server} server)"
        yield Target(
            "Radicale", s.base, RADICALE_USER, "unused", s.pid, version, root / "collections" / "collection-root"
        )


@contextlib.contextmanager
def hexagone(root: Path, database: str, pg_admin: str):  # type: ignore[no-untyped-def]
    """Hexagone with a fresh data directory (and database), one organisation and one user."""
    data = root / "data"
    data.mkdir(parents=True, exist_ok=True)
    log = root / "hexagone.log"
    port = free_port()
    with web.database(database, pg_admin) as db:
        env = web.hexagone_env(data, db) | {"HEXAGONE_HTTP_PORT": str(port)}
        for key in ("IMAP", "SMTP", "SUBMISSION", "MANAGESIEVE"):  # out of the way of other runs
            env[f"HEXAGONE_{key}_PORT"] = str(free_port())
        with log.open("ab") as out:
            for argv, stdin in (
                ([web.HEXAGONE, "migrate"], None),
                ([web.HEXAGONE, "org", "create", "--name", "Calendrier bench", "--domain", BENCH_DOMAIN], None),
                ([web.HEXAGONE, "user", "create", "--org", BENCH_DOMAIN, "--email", BENCH_USER, "--name", "Bench"], BENCH_PASSWORD + "\n"),
            ):  # fmt: skip
                subprocess.run(
                    argv, env=env, cwd=web.ROOT, check=True, input=stdin and stdin.encode(), stdout=out, stderr=out
                )
        argv = [web.HEXAGONE, "serve", "--port", str(port), "--workers", "1"]
        with web.Server(argv, env, port, "/healthz", log) as s:
            yield Target("Hexagone", s.base, BENCH_USER, BENCH_PASSWORD, s.pid, f"Hexagone on {database}")
