"""The ``hexagone`` command as the tests run it: in a process of its own, with its own
environment, standard streams and exit status, as an administrator's shell runs it.

Starting Python and importing the command line costs about 1.7 s of CPU (two cores shared
by the whole suite). So each command is forked from a server process that imported it once
(multiprocessing's forkserver, one per test process) instead of starting from nothing: the
child still gets a fresh copy of everything, sets the environment it is given, and exits
with the command's status. The command line builds itself from the installed modules at
import, so an environment that names other modules (``HEXAGONE_MODULES``) gets a process
started from nothing, as before.
"""

from __future__ import annotations

import multiprocessing
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from tests.conftest import ROOT, TEST_ENV, hexagone_command, server_env

_FORKS = multiprocessing.get_context("forkserver")
_FORKS.set_forkserver_preload(["hexagone.cli"])


def hexagone(
    *args: str, stdin: str | None = None, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """Run ``hexagone ARGS`` with ``env`` (default: the tests' server environment) and
    ``stdin``; its output as text. Raises ``subprocess.TimeoutExpired`` after ``timeout``."""
    environment = env if env is not None else server_env()
    command = hexagone_command(*args)
    if environment.get("HEXAGONE_MODULES", "") != TEST_ENV["HEXAGONE_MODULES"]:
        return subprocess.run(
            command, env=environment, cwd=ROOT, input=stdin, capture_output=True, text=True, timeout=timeout
        )
    with tempfile.TemporaryDirectory(prefix="hexagone-command-") as folder:
        streams = Path(folder)
        (streams / "stdin").write_text(stdin or "")
        child = _FORKS.Process(target=_run, args=(list(args), environment, folder))
        child.start()
        child.join(timeout)
        if child.exitcode is None:
            child.kill()
            child.join()
            raise subprocess.TimeoutExpired(command, timeout)
        return subprocess.CompletedProcess(
            command,
            child.exitcode,
            (streams / "stdout").read_text(errors="replace"),
            (streams / "stderr").read_text(errors="replace"),
        )


def _run(args: list[str], environment: dict[str, str], folder: str) -> None:
    """In the forked child: the command's environment, folder and standard streams (file
    descriptors 0–2, so that what it starts inherits them too), then the command."""
    os.environ.clear()
    os.environ.update(environment)
    os.chdir(ROOT)
    for fd, name, mode in (
        (0, "stdin", os.O_RDONLY),
        (1, "stdout", os.O_WRONLY | os.O_CREAT),
        (2, "stderr", os.O_WRONLY | os.O_CREAT),
    ):
        opened = os.open(os.path.join(folder, name), mode, 0o600)
        os.dup2(opened, fd)
        os.close(opened)
    sys.stdin = open(0, encoding="utf-8", closefd=False)  # noqa: SIM115 - the process' own stream
    sys.stdout = open(1, "w", encoding="utf-8", closefd=False)  # noqa: SIM115
    sys.stderr = open(2, "w", encoding="utf-8", closefd=False)  # noqa: SIM115
    sys.argv = ["hexagone", *args]

    from hexagone import cli
    from hexagone.core.config import get_settings

    get_settings.cache_clear()  # read again from the command's environment
    status = 0
    try:
        cli.app(args=args, prog_name="hexagone")
    except SystemExit as exit_:
        if isinstance(exit_.code, str):
            print(exit_.code, file=sys.stderr)
            status = 1
        else:
            status = exit_.code or 0
    except BaseException:
        import traceback

        traceback.print_exc()
        status = 1
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)
