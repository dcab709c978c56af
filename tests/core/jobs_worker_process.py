"""A job worker in a process of its own, for the tests that need several processes or a
crash: ``python -m tests.core.jobs_worker_process MODE KIND FOLDER LEASE_SECONDS``.

``record`` appends each job id to ``FOLDER/<pid>.done`` and stops when the queue has none
of KIND left; ``crash`` dies (``os._exit``) in the middle of the first job, as a worker
killed by the OOM killer or a power cut would. Both first write ``FOLDER/<pid>.ready``
and wait for ``FOLDER/go``, so that several processes start working together.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from datetime import timedelta
from pathlib import Path

from hexagone.app import load_registry
from hexagone.core import jobs
from hexagone.core.db import dispose_engine


async def main(mode: str, kind: str, folder: Path, lease: float) -> None:
    load_registry()  # every model, as in a served process (the core's tables name identity's)
    handlers = jobs.Handlers()
    done = folder / f"{os.getpid()}.done"

    async def record(job: jobs.Claimed) -> None:
        await asyncio.sleep(0.01)
        with done.open("a") as out:
            out.write(f"{job.id}\n")

    async def crash(_job: jobs.Claimed) -> None:
        os._exit(3)

    handlers.register(kind, record if mode == "record" else crash)
    (folder / f"{os.getpid()}.ready").touch()
    deadline = time.monotonic() + 30
    while not (folder / "go").exists() and time.monotonic() < deadline:
        await asyncio.sleep(0.02)
    worker = jobs.Worker(handlers, concurrency=4, lease=timedelta(seconds=lease))
    await worker.run_until_idle()
    await dispose_engine()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], Path(sys.argv[3]), float(sys.argv[4])))
