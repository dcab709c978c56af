"""The blob store against the disk and the S3 engine it writes to (issue 18: "large files
stream at disk speed").

For the local folder, plain and encrypted: a 1 GiB ``put`` (streamed from memory in 1 MiB
chunks, fsync'd), a ``get`` read to the end, a 100 MiB range from the middle, a ``copy``,
and a multipart upload (8 MiB parts, then ``complete``, which reads the result back to
hash it), against ``dd`` writing the same size to the same folder (``conv=fdatasync``) and
reading it back. For S3, plain and encrypted, on a SeaweedFS started here
(``tests/core/seaweed.py``): the same steps, against ``curl`` uploading and downloading
the same size to the same server in one request. Each row gives MB/s (10^6 bytes), the ratio
to its peer, and how far the process' peak memory rose (Linux's high-water mark, reset
before each step).

Reads are from the page cache unless ``--drop-caches`` (root) empties it before each read.
The machine is shared: the load average is printed before and after.

    .venv/bin/python bench/blobs/run.py [--size-mib 1024] [--dir /var/tmp/hexagone-bench-blobs]
        [--backends file,file+encrypted,s3,s3+encrypted] [--drop-caches] [--json FILE]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from hexagone.core import blobs  # noqa: E402
from hexagone.core.config import Settings  # noqa: E402
from tests.core.seaweed import SeaweedS3  # noqa: E402

MIB = 1 << 20
BLOCK = os.urandom(16 * MIB)  # the content: this block over and over, handed out by the MiB


@dataclass
class Row:
    backend: str
    operation: str
    megabytes: float
    seconds: list[float] = field(default_factory=list)
    peak_rss_mib: list[float] = field(default_factory=list)
    peer: str = ""

    @property
    def speed(self) -> float:
        """MB/s over the median time."""
        return self.megabytes / statistics.median(self.seconds)


def say(text: str) -> None:
    print(text, flush=True)


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def _kib(field: str) -> int:
    found = re.search(rf"^{field}:\s+(\d+) kB", Path("/proc/self/status").read_text(), re.MULTILINE)
    assert found is not None
    return int(found.group(1))


async def measured(action: Callable[[], Awaitable[object]]) -> tuple[float, float]:
    """Seconds taken, and MiB the peak resident memory rose by."""
    Path("/proc/self/clear_refs").write_text("5")
    start_rss = _kib("VmRSS")
    started = time.perf_counter()
    await action()
    return time.perf_counter() - started, (_kib("VmHWM") - start_rss) / 1024


def drop_caches(enabled: bool) -> None:
    if enabled:
        os.sync()
        Path("/proc/sys/vm/drop_caches").write_text("3")


async def content(size: int) -> AsyncIterator[bytes]:
    view = memoryview(BLOCK)
    for offset in range(0, size, MIB):
        start = offset % len(BLOCK)
        yield view[start : start + min(MIB, size - offset)]  # type: ignore[misc]


async def drain(chunks: AsyncIterator[bytes]) -> int:
    count = 0
    async for chunk in chunks:
        count += len(chunk)
    return count


def timed_command(command: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True)
    return time.perf_counter() - started


def open_store(url: str, encrypted: bool) -> blobs.BlobStore:
    key = base64.b64encode(os.urandom(32)).decode() if encrypted else None
    return blobs.load(Settings(blob_url=url, blob_encryption=encrypted, blob_master_key=key))


async def bench_store(name: str, store: blobs.BlobStore, size: int, drop: bool, rows: dict[str, Row]) -> None:
    async def step(operation: str, action: Callable[[], Awaitable[object]], count: int, peer: str = "") -> None:
        if operation == "get":
            drop_caches(drop)
        seconds, rss = await measured(action)
        row = rows.setdefault(f"{name} {operation}", Row(name, operation, count / 1e6, peer=peer))
        row.seconds.append(seconds)
        row.peak_rss_mib.append(rss)
        say(f"{name:15} {operation:22} {seconds:7.2f} s {count / seconds / 1e6:8.1f} MB/s  peak +{rss:5.1f} MiB")

    await store.put(b"warm-up", key="org/bench/warm-up")  # the S3 client loads its models once
    middle, length = size // 2, min(100 * MIB, size // 4)
    await step("put", lambda: store.put(content(size), key="org/bench/big"), size, "write")
    await step("get", lambda: read_all(store, "org/bench/big"), size, "read")
    await step(
        f"get {length // MIB} MiB range",
        lambda: read_all(store, "org/bench/big", start=middle, end=middle + length),
        length,
    )
    await step("copy", lambda: store.copy("org/bench/big", "org/bench/copy"), size)
    await step("multipart + complete", lambda: upload_in_parts(store, size), size, "write")
    for key in ("org/bench/warm-up", "org/bench/big", "org/bench/copy", "org/bench/parts"):
        await store.delete(key)


async def read_all(store: blobs.BlobStore, key: str, **where: int) -> int:
    return await drain(await store.get(key, **where))


async def upload_in_parts(store: blobs.BlobStore, size: int) -> blobs.BlobRef:
    upload = await store.start("org/bench/parts")
    parts = []
    for number, offset in enumerate(range(0, size, store.part_size), 1):
        parts.append(await store.put_part(upload, number, content(min(store.part_size, size - offset))))
    return await store.complete(upload, parts)


def peer_row(rows: dict[str, Row], name: str, operation: str, seconds: float, size: int) -> None:
    rows.setdefault(f"{name} {operation}", Row(name, operation, size / 1e6)).seconds.append(seconds)
    say(f"{name:15} {operation:22} {seconds:7.2f} s {size / seconds / 1e6:8.1f} MB/s")


def dd_peers(folder: Path, size: int, drop: bool, rows: dict[str, Row]) -> None:
    target = folder / "dd.bin"
    count = size // MIB
    write = timed_command(["dd", "if=/dev/zero", f"of={target}", "bs=1M", f"count={count}", "conv=fdatasync"])
    drop_caches(drop)
    read = timed_command(["dd", f"if={target}", "of=/dev/null", "bs=1M"])
    target.unlink()
    peer_row(rows, "dd", "write", write, size)
    peer_row(rows, "dd", "read", read, size)


def curl_peers(server: SeaweedS3, folder: Path, size: int, rows: dict[str, Row]) -> None:
    source = folder / "curl.bin"
    with source.open("wb") as file:
        for offset in range(0, size, len(BLOCK)):
            file.write(BLOCK[: size - offset])
    url = f"http://{server.endpoint}/hexagone-tests/curl/object"
    put = timed_command(["curl", "-sS", "-f", "-H", "Expect:", "-T", str(source), url])
    get = timed_command(["curl", "-sS", "-f", "-o", "/dev/null", url])
    subprocess.run(["curl", "-sS", "-X", "DELETE", url], check=True, capture_output=True)
    source.unlink()
    peer_row(rows, "curl", "write", put, size)
    peer_row(rows, "curl", "read", get, size)


def summary(rows: dict[str, Row]) -> None:
    """Medians, each row beside its peer's median (dd for the folder, curl for S3)."""
    say("\nmedians")
    for row in rows.values():
        peer = rows.get(f"{'curl' if row.backend.startswith('s3') else 'dd'} {row.peer}") if row.peer else None
        ratio = f"{row.speed / peer.speed:5.2f}× {peer.backend} {row.peer}" if peer else ""
        memory = f"peak +{max(row.peak_rss_mib):5.1f} MiB" if row.peak_rss_mib else ""
        say(f"{row.backend:15} {row.operation:22} {row.speed:8.1f} MB/s  {memory:17} {ratio}")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--dir", type=Path, default=Path("/var/tmp/hexagone-bench-blobs"))
    parser.add_argument("--backends", default="file,file+encrypted,s3,s3+encrypted")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--drop-caches", action="store_true")
    parser.add_argument("--json", type=Path)
    options = parser.parse_args()
    size, backends = options.size_mib * MIB, options.backends.split(",")
    options.dir.mkdir(parents=True, exist_ok=True)
    say(f"{size / MIB:.0f} MiB in {options.dir}, {options.repeat} times; load average {load_average()}")
    rows: dict[str, Row] = {}
    server = SeaweedS3() if any(name.startswith("s3") for name in backends) else None
    try:
        for _ in range(options.repeat):
            for name in backends:
                if name.startswith("file"):  # the peer just before, as the disk's speed drifts
                    dd_peers(options.dir, size, options.drop_caches, rows)
                    folder = options.dir / name.replace("+", "-")
                    store = open_store(folder.as_uri(), name.endswith("+encrypted"))
                else:
                    assert server is not None
                    curl_peers(server, options.dir, size, rows)
                    store = open_store(server.url(), name.endswith("+encrypted"))
                await bench_store(name, store, size, options.drop_caches, rows)
                await store.close()
                if name.startswith("file"):
                    shutil.rmtree(folder)
    finally:
        if server is not None:
            server.stop()
    summary(rows)
    say(f"load average {load_average()}")
    if options.json:
        options.json.write_text(json.dumps([asdict(row) for row in rows.values()], indent=2))


if __name__ == "__main__":
    asyncio.run(main())
