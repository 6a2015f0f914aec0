"""Bounded concurrency: at most N calls in flight per endpoint, sync and async alike.

One `ConcurrencyLimit` is shared by every model object that talks to the same endpoint
with the same limit, so two pipelines in one process cannot together exceed it. The async
side keeps one `asyncio.Semaphore` per event loop (a semaphore is bound to the loop it first
waits on, and callers may run `asyncio.run` more than once); the sync side is a
`threading.BoundedSemaphore`. The two are separate budgets: a process that mixes threads
and an event loop against one endpoint may have up to 2N calls in flight.
"""

from __future__ import annotations

import asyncio
import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager

from ..errors import InvalidValue
from .base import Completion, CompletionRequest, Model, ModelWrapper


class ConcurrencyLimit:
    def __init__(self, size: int) -> None:
        if size < 1:
            raise InvalidValue(f"concurrency must be at least 1, got {size}", setting="concurrency", value=size)
        self.size = size
        self._threads = threading.BoundedSemaphore(size)
        self._loops: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
            weakref.WeakKeyDictionary()
        )
        self._lock = threading.Lock()

    def for_running_loop(self) -> asyncio.Semaphore:
        loop = asyncio.get_running_loop()
        with self._lock:
            semaphore = self._loops.get(loop)
            if semaphore is None:
                semaphore = self._loops[loop] = asyncio.Semaphore(self.size)
            return semaphore

    @contextmanager
    def hold(self) -> Iterator[None]:
        """One slot for a synchronous call."""
        with self._threads:
            yield


_LIMITS: dict[tuple[str, int], ConcurrencyLimit] = {}
_LIMITS_LOCK = threading.Lock()


def endpoint_limit(endpoint: str, size: int) -> ConcurrencyLimit:
    """The process-wide limit for `endpoint` at `size` calls in flight."""
    with _LIMITS_LOCK:
        limit = _LIMITS.get((endpoint, size))
        if limit is None:
            limit = _LIMITS[(endpoint, size)] = ConcurrencyLimit(size)
        return limit


class BoundedModel(ModelWrapper):
    """A model whose calls wait for a slot of `limit` before reaching the backend."""

    def __init__(self, inner: Model, limit: ConcurrencyLimit) -> None:
        super().__init__(inner)
        self.limit = limit

    def complete(self, request: CompletionRequest) -> Completion:
        with self.limit.hold():
            return self.inner.complete(request)

    async def acomplete(self, request: CompletionRequest) -> Completion:
        async with self.limit.for_running_loop():
            return await self.inner.acomplete(request)
