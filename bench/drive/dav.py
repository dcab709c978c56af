"""The drive's WebDAV against nginx's (Debian nginx + libnginx-mod-http-dav-ext) and
Apache's mod_dav (Debian apache2), each started here on a loopback port with a
temporary configuration and a data directory on the same disk, and ``dd`` to that disk:

- a 1 GiB PUT and GET with curl, the server's RSS sampled (psutil) all along;
- ``rclone copy`` of 10,000 small files (1–20 KB in 100 folders) up, then down;
- PROPFIND Depth 1 of a folder of 10,000 files (ours only: p50, p99).

Ours is served as ``hexagone serve`` serves it (the same command, one worker), on SQLite
in a temporary data directory, with a user whose files are inserted directly for the
PROPFIND folder (its content is not what a listing reads).

    .venv/bin/python bench/drive/dav.py [--dir /var/tmp] [--size-mib 1024] [--files 10000]
        [--rounds 50] [--only put-get,rclone,propfind]

State the load average (printed at the start and the end) next to any figure.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import psutil

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
USER, PASSWORD = "b@bench.test", "Bench-password-123"
sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(ROOT))

from tests.ports import free_port  # noqa: E402


def _wait(url: str, auth: tuple[str, str] | None = None) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            if httpx.request("OPTIONS", url, auth=auth, timeout=2).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not come up")


class Peer:
    """A WebDAV server under test: its URL, credentials, process and data directory."""

    def __init__(self, name: str, url: str, process: subprocess.Popen[bytes], auth: tuple[str, str] | None):
        self.name, self.url, self.process, self.auth = name, url, process, auth

    def rss_sampler(self) -> RssSampler:
        return RssSampler(self.process.pid)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()


class RssSampler:
    """The resident memory of a process and its children, every 100 ms in a thread."""

    def __init__(self, pid: int):
        self.process = psutil.Process(pid)
        self.samples: list[int] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                rss = self.process.memory_info().rss
                rss += sum(c.memory_info().rss for c in self.process.children(recursive=True))
                self.samples.append(rss)
            except psutil.Error:
                pass
            self._stop.wait(0.1)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def describe(self) -> str:
        mib = [s / 2**20 for s in self.samples] or [0.0]
        return f"RSS {min(mib):.0f}–{max(mib):.0f} MiB over {len(mib)} samples"


def start_ours(work: Path) -> Peer:
    data = work / "hexagone"
    data.mkdir()
    env = dict(os.environ)
    env.update(
        {
            "HEXAGONE_DATA_DIR": str(data),
            "HEXAGONE_DATABASE_URL": f"sqlite+aiosqlite:///{data}/bench.sqlite3",
            "HEXAGONE_SECRET_KEY": "bench-secret-key-not-for-production-0123456789",
            "HEXAGONE_LOG_LEVEL": "warning",
            "HEXAGONE_SERVE_PARTS": "web",
            "HEXAGONE_DRIVE_MAX_UPLOAD_BYTES": str(8 * 2**30),
        }
    )
    subprocess.run([str(BIN / "hexagone"), "migrate"], env=env, check=True, capture_output=True)
    port = free_port()
    env["HEXAGONE_BASE_URL"] = f"http://127.0.0.1:{port}"
    os.environ.update({k: v for k, v in env.items() if k.startswith("HEXAGONE_")})
    process = subprocess.Popen(
        [str(BIN / "hexagone"), "serve", "--port", str(port), "--workers", "1"],
        env=env,
        stdout=(work / "hexagone.log").open("wb"),
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}/dav/files/{USER}/"
    return Peer("hexagone", url, process, (USER, PASSWORD))


NGINX_CONF = """
load_module /usr/lib/nginx/modules/ngx_http_dav_ext_module.so;
daemon off;
worker_processes 1;
error_log {work}/nginx-error.log;
pid {work}/nginx.pid;
events {{ worker_connections 1024; }}
http {{
  access_log off;
  client_body_temp_path {root}/.tmp;
  sendfile on;
  server {{
    listen 127.0.0.1:{port};
    root {root};
    client_max_body_size 0;
    create_full_put_path on;
    dav_methods PUT DELETE MKCOL COPY MOVE;
    dav_ext_methods PROPFIND OPTIONS;
    dav_access user:rw group:rw all:r;
  }}
}}
"""


def start_nginx(work: Path) -> Peer:
    root = work / "nginx-root"
    (root / ".tmp").mkdir(parents=True)
    for folder in (root, root / ".tmp"):
        folder.chmod(0o777)  # its worker runs as nobody
    port = free_port()
    conf = work / "nginx.conf"
    conf.write_text(NGINX_CONF.format(work=work, root=root, port=port))
    process = subprocess.Popen(["nginx", "-c", str(conf), "-p", str(work)], stderr=subprocess.DEVNULL)
    return Peer("nginx", f"http://127.0.0.1:{port}/", process, None)


APACHE_CONF = """
ServerRoot /etc/apache2
ServerName 127.0.0.1
Listen 127.0.0.1:{port}
PidFile {work}/apache.pid
ErrorLog {work}/apache-error.log
User nobody
Group nogroup
LoadModule mpm_event_module /usr/lib/apache2/modules/mod_mpm_event.so
LoadModule authz_core_module /usr/lib/apache2/modules/mod_authz_core.so
LoadModule dav_module /usr/lib/apache2/modules/mod_dav.so
LoadModule dav_fs_module /usr/lib/apache2/modules/mod_dav_fs.so
LoadModule dav_lock_module /usr/lib/apache2/modules/mod_dav_lock.so
DavLockDB {work}/apache-lock/DavLock
StartServers 1
ServerLimit 1
ThreadsPerChild 25
MaxRequestWorkers 25
DocumentRoot {root}
LimitRequestBody 0
<Directory {root}>
  Dav On
  Require all granted
</Directory>
"""


def start_apache(work: Path) -> Peer:
    root = work / "apache-root"
    root.mkdir()
    (work / "apache-lock").mkdir()
    for folder in (root, work / "apache-lock"):
        folder.chmod(0o777)  # its workers run as nobody
    port = free_port()
    conf = work / "apache.conf"
    conf.write_text(APACHE_CONF.format(work=work, root=root, port=port))
    process = subprocess.Popen(["apache2", "-f", str(conf), "-DFOREGROUND"], stderr=subprocess.DEVNULL)
    return Peer("apache", f"http://127.0.0.1:{port}/", process, None)


def _curl(*args: str, auth: tuple[str, str] | None) -> float:
    """curl's total time in seconds for one transfer."""
    command = ["curl", "-s", "-S", "-f", "-o", "/dev/null", "-w", "%{time_total}", *args]
    if auth:
        command += ["-u", f"{auth[0]}:{auth[1]}"]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    return float(done.stdout)


def put_get(peers: list[Peer], work: Path, size_mib: int) -> None:
    source = work / "big.bin"
    with source.open("wb") as out:
        for _ in range(size_mib):
            out.write(os.urandom(2**20))
    size = size_mib * 2**20
    target = work / "dd.bin"
    started = time.perf_counter()
    subprocess.run(["dd", f"if={source}", f"of={target}", "bs=1M", "conv=fdatasync"], check=True, capture_output=True)
    dd = time.perf_counter() - started
    print(f"dd to the same disk (fdatasync): {size / dd / 2**20:.0f} MiB/s")
    target.unlink()
    rates: dict[str, tuple[float, float]] = {}
    for peer in peers:
        with peer.rss_sampler() as put_rss:
            put_seconds = _curl("-T", str(source), peer.url + "big.bin", auth=peer.auth)
        with peer.rss_sampler() as get_rss:
            get_seconds = _curl(peer.url + "big.bin", auth=peer.auth)
        rates[peer.name] = (size / put_seconds / 2**20, size / get_seconds / 2**20)
        print(
            f"{peer.name}: PUT {rates[peer.name][0]:.0f} MiB/s ({put_rss.describe()}), "
            f"GET {rates[peer.name][1]:.0f} MiB/s ({get_rss.describe()})"
        )
    if "nginx" in rates and "hexagone" in rates:
        ours, theirs = rates["hexagone"], rates["nginx"]
        print(
            f"hexagone / nginx: PUT {ours[0] / theirs[0]:.2f}× (target ≥ 0.8), GET {ours[1] / theirs[1]:.2f}× (≥ 0.5)"
        )
    source.unlink()


def _small_tree(root: Path, files: int) -> None:
    rng = random.Random(7)
    for n in range(files):
        path = root / f"folder-{n % 100:03d}" / f"file-{n:05d}.bin"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(rng.randbytes(rng.randint(1024, 20 * 1024)))


def _rclone(peer: Peer, *args: str, work: Path) -> float:
    env = {
        "HOME": str(work),
        "PATH": os.environ["PATH"],
        "RCLONE_CONFIG_PEER_TYPE": "webdav",
        "RCLONE_CONFIG_PEER_URL": peer.url,
        "RCLONE_CONFIG_PEER_VENDOR": "other",
    }
    if peer.auth:
        obscured = subprocess.run([str(BIN / "rclone"), "obscure", peer.auth[1]], capture_output=True, text=True)
        env |= {"RCLONE_CONFIG_PEER_USER": peer.auth[0], "RCLONE_CONFIG_PEER_PASS": obscured.stdout.strip()}
    started = time.perf_counter()
    subprocess.run(
        [str(BIN / "rclone"), *args, "--webdav-pacer-min-sleep", "0", "--transfers", "8", "--checkers", "8", "-q"],
        env=env,
        check=True,
    )
    return time.perf_counter() - started


def rclone(peers: list[Peer], work: Path, files: int) -> None:
    tree = work / "small"
    _small_tree(tree, files)
    for peer in peers:
        up = _rclone(peer, "copy", str(tree), "peer:small", work=work)
        down_dir = work / f"down-{peer.name}"
        down = _rclone(peer, "copy", "peer:small", str(down_dir), work=work)
        shutil.rmtree(down_dir)
        print(f"{peer.name}: rclone copy {files} files up {files / up:.0f} files/s, down {files / down:.0f} files/s")


async def _fill_folder(files: int) -> str:
    """A user and a folder of ``files`` files in our server's database (bench/drive/listing.py)."""
    from listing import _fill

    from hexagone.core.db import dispose_engine

    await _fill(files)
    await dispose_engine()
    return "big/"


def propfind(ours: Peer, files: int, rounds: int) -> None:
    body = '<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:allprop/></D:propfind>'
    times = []
    with httpx.Client(auth=ours.auth, timeout=120) as client:
        for n in range(rounds + 2):
            started = time.perf_counter()
            response = client.request("PROPFIND", ours.url + "big/", headers={"depth": "1"}, content=body)
            elapsed = (time.perf_counter() - started) * 1000
            assert response.status_code == 207, response.text[:300]
            if n >= 2:  # two to warm up
                times.append(elapsed)
    times.sort()
    p99 = times[min(len(times) - 1, int(len(times) * 0.99))]
    print(
        f"hexagone: PROPFIND Depth 1 of {files} files ({len(response.content) / 2**20:.1f} MiB): "
        f"p50 {statistics.median(times):.0f} ms, p99 {p99:.0f} ms over {rounds} (target p99 < 200 ms)"
    )


@contextmanager
def _peers(work: Path, names: list[str]) -> Iterator[list[Peer]]:
    started: list[Peer] = []
    try:
        for name in names:
            started.append({"hexagone": start_ours, "nginx": start_nginx, "apache": start_apache}[name](work))
        for peer in started:
            _wait(peer.url, peer.auth)
        yield started
    finally:
        for peer in started:
            peer.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dir", default="/var/tmp", help="where the data directories go (one disk for all)")
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--files", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=50)
    parser.add_argument("--only", default="put-get,rclone,propfind")
    parser.add_argument("--peers", default="hexagone,nginx,apache")
    args = parser.parse_args()
    only = set(args.only.split(","))
    print("load average at the start:", " ".join(f"{x:.2f}" for x in os.getloadavg()))
    work = Path(tempfile.mkdtemp(prefix="dav-bench-", dir=args.dir))
    work.chmod(0o755)  # nginx's and Apache's workers (nobody) go through it
    try:
        with _peers(work, args.peers.split(",")) as peers:
            if any(p.name == "hexagone" for p in peers):  # our user, and its folder for PROPFIND
                asyncio.run(_fill_folder(args.files if "propfind" in only else 1))
            if "put-get" in only:
                put_get(peers, work, args.size_mib)
            if "rclone" in only:
                rclone(peers, work, args.files)
            if "propfind" in only:
                propfind(next(p for p in peers if p.name == "hexagone"), args.files, args.rounds)
    finally:
        shutil.rmtree(work, ignore_errors=True)
        print("load average at the end:", " ".join(f"{x:.2f}" for x in os.getloadavg()))


if __name__ == "__main__":
    main()
