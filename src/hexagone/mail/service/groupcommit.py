"""Group commit: concurrent callers share one transaction instead of one each.

Twenty SMTP sessions delivering at once would otherwise open twenty write transactions
that queue for the database's write lock (on SQLite, sleeping in its busy handler between
tries) and commit one by one. Here each caller hands its item to :meth:`GroupCommit.submit`
and waits; one task per event loop takes everything pending, runs it through the batch
function in one transaction per key (an organisation: its rows are written in a session
scoped to it), and answers every caller once that transaction has committed. While a
batch commits, the next callers gather for the next one: the busier the server, the
larger the batches, and the cheaper each item.

The batch function returns one outcome per item, a result or the exception that item
alone raises (a full mailbox), in the order given. If it raises instead, the transaction
is gone for all the items: each is then run again in a batch of its own, so that one
item's fault never fails another.

A caller cancelled while it waits (a client that hangs up) does not cancel the batch: its
item is committed or not like the others, and the outcome is simply not read.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
I = TypeVar("I")  # noqa: E741 - the item, beside K and R
R = TypeVar("R")

Batch = Callable[[K, list[I]], Awaitable[list[R | Exception]]]


class Interrupted(Exception):
    """The batch task stopped (the event loop is closing) before this item's turn."""


@dataclass
class _Waiting(Generic[K, I, R]):
    key: K
    item: I
    future: asyncio.Future[R]


@dataclass
class _LoopState(Generic[K, I, R]):
    pending: list[_Waiting[K, I, R]] = field(default_factory=list)
    task: asyncio.Task[None] | None = None


class GroupCommit(Generic[K, I, R]):
    """``await group.submit(key, item)`` returns the batch function's result for ``item``
    (or raises its exception) once the transaction that holds it has committed."""

    def __init__(self, batch: Batch[K, I, R], *, max_batch: int = 200):
        self._batch = batch
        self.max_batch = max_batch
        self._loops: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _LoopState[K, I, R]] = (
            weakref.WeakKeyDictionary()
        )

    async def submit(self, key: K, item: I) -> R:
        loop = asyncio.get_running_loop()
        state = self._loops.setdefault(loop, _LoopState())
        waiting = _Waiting(key, item, loop.create_future())
        waiting.future.add_done_callback(_retrieved)
        state.pending.append(waiting)
        if state.task is None or state.task.done():
            state.task = loop.create_task(self._drain(state))
        return await asyncio.shield(waiting.future)

    async def _drain(self, state: _LoopState[K, I, R]) -> None:
        batch: list[_Waiting[K, I, R]] = []
        try:
            while state.pending:
                batch = state.pending[: self.max_batch]
                del state.pending[: len(batch)]
                by_key: dict[K, list[_Waiting[K, I, R]]] = {}
                for waiting in batch:
                    by_key.setdefault(waiting.key, []).append(waiting)
                for key, group in by_key.items():
                    await self._run(key, group)
        except BaseException:
            for waiting in [*batch, *state.pending]:
                if not waiting.future.done():
                    waiting.future.set_exception(Interrupted("the write was interrupted"))
            state.pending.clear()
            raise

    async def _run(self, key: K, group: list[_Waiting[K, I, R]]) -> None:
        try:
            outcomes = await self._batch(key, [waiting.item for waiting in group])
        except Exception as error:
            if len(group) > 1:
                for waiting in group:  # one at a time: whose fault it was shows
                    await self._run(key, [waiting])
                return
            outcomes = [error]
        for waiting, outcome in zip(group, outcomes, strict=True):
            if waiting.future.done():
                continue
            if isinstance(outcome, Exception):
                waiting.future.set_exception(outcome)
            else:
                waiting.future.set_result(outcome)


def _retrieved(future: asyncio.Future[object]) -> None:
    """Read the outcome, so that one nobody awaits any more (a caller that hung up) is not
    logged as an exception never retrieved."""
    if not future.cancelled():
        future.exception()
