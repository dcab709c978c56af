"""Which coroutine runs a job of which kind, and how long to wait before retrying it.

A module declares its handlers in its descriptor (``Module.jobs = [JobSpec("mail.deliver",
deliver)]``); when the composition root loads the registry, the core installs them in the
process-wide :data:`HANDLERS`, so a worker knows the kinds of exactly the installed modules
and claims only those. Nothing is registered by importing a module.
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import timedelta

from hexagone.core.jobs.queue import Claimed

JobHandler = Callable[[Claimed], Awaitable[None]]


class PermanentFailure(Exception):
    """Raised by a handler when retrying cannot help (the payload names a deleted row,
    the input is invalid): the job fails at once instead of using up its attempts."""


@dataclass(frozen=True)
class Backoff:
    """Exponential backoff with jitter: attempt n waits between half and all of
    ``base × 2^(n-1)`` seconds, at most ``cap``. The jitter spreads the retries of jobs
    that failed together (a dependency went down) so they do not come back together."""

    base: float = 10.0
    cap: float = 3600.0

    def delay(self, attempt: int) -> float:
        ceiling = min(self.cap, self.base * 2 ** max(0, attempt - 1))
        return random.uniform(ceiling / 2, ceiling)


@dataclass(frozen=True)
class JobSpec:
    """One kind of job and the coroutine that runs it, as a module declares it.
    ``every``: a periodic job (a retention sweep), which the workers enqueue themselves
    once that long has passed since the last one was queued (:func:`.queue.ensure_periodic`);
    its handler gets an empty payload and no organisation."""

    kind: str
    run: JobHandler
    backoff: Backoff = Backoff()
    every: timedelta | None = None


class Handlers:
    def __init__(self) -> None:
        self._by_kind: dict[str, JobSpec] = {}

    def register(
        self, kind: str, run: JobHandler, *, backoff: Backoff | None = None, every: timedelta | None = None
    ) -> None:
        existing = self._by_kind.get(kind)
        if existing is not None and existing.run is not run:
            raise ValueError(f"job kind {kind!r} already has a handler ({existing.run.__qualname__})")
        self._by_kind[kind] = JobSpec(kind, run, backoff or Backoff(), every)

    def install(self, specs: Iterable[JobSpec]) -> None:
        """Register every declared handler (the modules' ``jobs``); installing twice is harmless."""
        for spec in specs:
            self.register(spec.kind, spec.run, backoff=spec.backoff, every=spec.every)

    @property
    def periodic(self) -> list[JobSpec]:
        return [spec for spec in self._by_kind.values() if spec.every is not None]

    def get(self, kind: str) -> JobSpec | None:
        return self._by_kind.get(kind)

    @property
    def kinds(self) -> list[str]:
        return sorted(self._by_kind)


HANDLERS = Handlers()
register = HANDLERS.register
