"""The drive's WebDAV through clients nobody here wrote: Debian's ``litmus`` (the WebDAV
conformance suite: every suite with no failure), ``rclone`` (a tree synced up, changed,
synced back down and compared) and ``cadaver`` (a scripted session; it exits 0 even when
a command fails, so its output is read)."""

from __future__ import annotations

import filecmp
import os
import random
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import pytest

from tests.conftest import Server
from tests.drive.dav.helpers import dav_client, files
from tests.factories import TestOrg, make_user

SUITES = ("basic", "copymove", "props", "locks", "http")
SUMMARY = re.compile(r"<- summary for `(\w+)': of (\d+) tests run: (\d+) passed, (\d+) failed")


def _run(command: list[str], *, cwd: Path, env: dict[str, str], stdin: str = "", timeout: int = 300) -> str:
    """The program's output; it runs in ``cwd`` (litmus writes its logs there)."""
    done = subprocess.run(command, input=stdin, capture_output=True, text=True, timeout=timeout, env=env, cwd=cwd)
    return done.stdout + done.stderr


@pytest.mark.parametrize("suite", SUITES)
async def test_litmus_suite_passes_without_failure(server: Server, org: TestOrg, suite: str, tmp_path: Path) -> None:
    user = await make_user(org)
    url = server.base_url + files(user)
    env = {"HOME": str(tmp_path), "PATH": "/usr/bin:/bin", "TESTS": suite}
    output = _run(["litmus", url, user.email, user.password], cwd=tmp_path, env=env)
    summaries = {m.group(1): m.groups()[1:] for m in SUMMARY.finditer(output)}
    assert suite in summaries, output
    run, passed, failed = (int(n) for n in summaries[suite])
    assert failed == 0 and passed == run, output


def _tree(root: Path, seed: int) -> None:
    """A tree of small files (some with accents and spaces in their names) in folders."""
    rng = random.Random(seed)
    for folder in range(5):
        for index in range(8):
            path = root / f"dossier {folder}" / f"fichier-é{index}.bin"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(rng.randbytes(rng.randint(1, 20_000)))
    (root / "racine.txt").write_text("à la racine\n")


def _rclone(*args: str, env: dict[str, str]) -> None:
    binary = str(Path(sys.executable).parent / "rclone")
    done = subprocess.run(
        [binary, *args, "--webdav-pacer-min-sleep", "0", "--retries", "1", "-q"],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    assert done.returncode == 0, done.stdout + done.stderr


async def test_rclone_syncs_a_tree_up_changes_it_and_syncs_it_back_down(
    server: Server, org: TestOrg, tmp_path: Path
) -> None:
    user = await make_user(org)
    rclone = str(Path(sys.executable).parent / "rclone")
    obscured = subprocess.run([rclone, "obscure", user.password], capture_output=True, text=True, check=True)
    env = {
        "HOME": str(tmp_path),
        "PATH": os.environ["PATH"],
        "RCLONE_CONFIG_HX_TYPE": "webdav",
        "RCLONE_CONFIG_HX_URL": server.base_url + files(user),
        "RCLONE_CONFIG_HX_VENDOR": "other",
        "RCLONE_CONFIG_HX_USER": user.email,
        "RCLONE_CONFIG_HX_PASS": obscured.stdout.strip(),
    }
    up, down = tmp_path / "up", tmp_path / "down"
    _tree(up, seed=1)
    _rclone("sync", str(up), "hx:arbre", env=env)
    (up / "dossier 0" / "fichier-é0.bin").unlink()
    (up / "dossier 1" / "fichier-é1.bin").write_bytes(b"changed")
    (up / "nouveau").mkdir()
    (up / "nouveau" / "n.txt").write_text("new")
    _rclone("sync", str(up), "hx:arbre", env=env)
    _rclone("sync", "hx:arbre", str(down), env=env)
    _assert_same(up, down)


def _assert_same(left: Path, right: Path) -> None:
    comparison = filecmp.dircmp(left, right)
    assert not comparison.left_only and not comparison.right_only, (comparison.left_only, comparison.right_only)
    _match, mismatch, errors = filecmp.cmpfiles(left, right, comparison.common_files, shallow=False)
    assert not mismatch and not errors
    for sub in comparison.common_dirs:
        _assert_same(left / sub, right / sub)


async def test_cadaver_scripted_session_reports_no_failure(server: Server, org: TestOrg, tmp_path: Path) -> None:
    user = await make_user(org)
    (tmp_path / ".netrc").write_text(f"machine 127.0.0.1 login {user.email} password {user.password}\n")
    (tmp_path / ".netrc").chmod(0o600)
    local = tmp_path / "local.txt"
    local.write_text("bonjour cadaver\n")
    script = "\n".join(
        [
            "mkcol dossier",
            "cd dossier",
            f"put {local} a.txt",
            "copy a.txt b.txt",
            "move b.txt c.txt",
            "propset c.txt colour blue",
            "propget c.txt colour",
            "lock a.txt",
            "unlock a.txt",
            f"get c.txt {tmp_path / 'back.txt'}",
            "ls",
            "delete a.txt",
            "cd ..",
            "rmcol dossier",
            "quit",
        ]
    )
    url = server.base_url + files(user)
    output = _run(
        ["cadaver", url], cwd=tmp_path, env={"HOME": str(tmp_path), "PATH": "/usr/bin:/bin"}, stdin=script + "\n"
    )
    assert not re.search(r"failed|error|denied", output, re.IGNORECASE), output
    assert (tmp_path / "back.txt").read_text() == "bonjour cadaver\n"
    assert "blue" in output
    async with dav_client(server.base_url, user) as client:
        gone = await client.request("PROPFIND", files(user, quote("dossier") + "/"), headers={"depth": "0"})
    assert gone.status_code == 404
