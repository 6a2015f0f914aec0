"""A model layer for measuring several scorers on one haystack: a request asked twice (the
same segment and question, by two scorers) is sent once, and each scorer is charged the
measured seconds of every distinct request it needed, as if it had sent them itself."""

from __future__ import annotations

import asyncio
import contextvars
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from ...errors import EmptyResponse
from ...llm.base import Completion, CompletionRequest, Model, ModelWrapper

T = TypeVar("T")

_ledger: contextvars.ContextVar[dict[str, float] | None] = contextvars.ContextVar("needle_ledger", default=None)


class Ledger:
    """The distinct requests one scorer needed, with the seconds each took when sent."""

    def __init__(self) -> None:
        self.requests: dict[str, float] = {}

    async def charging(self, awaitable: Awaitable[T]) -> T:
        """Await `awaitable` with this ledger charged for its requests (per task: several
        tasks may charge one ledger at once)."""
        token = _ledger.set(self.requests)
        try:
            return await awaitable
        finally:
            _ledger.reset(token)

    def charged(self, call: Callable[[], T]) -> T:
        """`call()` with this ledger charged for its requests (synchronous code)."""
        token = _ledger.set(self.requests)
        try:
            return call()
        finally:
            _ledger.reset(token)

    @property
    def calls(self) -> int:
        return len(self.requests)

    @property
    def seconds(self) -> float:
        return sum(self.requests.values())


class SharedCalls(ModelWrapper):
    """Answers a repeated request from memory (errors included) until `forget`; every request
    is entered, with its seconds, in the ledger of the running context."""

    def __init__(self, inner: Model) -> None:
        super().__init__(inner)
        self._memo: dict[str, tuple[Completion | EmptyResponse, float]] = {}
        self._pending: dict[str, asyncio.Future] = {}
        self.sent = 0

    def forget(self) -> None:
        """Drop the remembered replies (between haystacks: a cell pays for its own reads)."""
        self._memo.clear()

    def _charge(self, key: str, seconds: float) -> None:
        ledger = _ledger.get()
        if ledger is not None:
            ledger[key] = seconds

    def _result(self, key: str) -> Completion:
        outcome, seconds = self._memo[key]
        self._charge(key, seconds)
        if isinstance(outcome, EmptyResponse):
            raise outcome
        return outcome

    async def acomplete(self, request: CompletionRequest) -> Completion:
        key = request.model_dump_json()
        if key not in self._memo:
            pending = self._pending.get(key)
            if pending is not None:
                await asyncio.shield(pending)
                if key not in self._memo:  # the first asker's call failed: try again
                    return await self.acomplete(request)
                return self._result(key)
            else:
                future = self._pending[key] = asyncio.get_running_loop().create_future()
                started = time.perf_counter()
                try:
                    outcome: Completion | EmptyResponse = await self.inner.acomplete(request)
                except EmptyResponse as exc:
                    outcome = exc
                finally:
                    self._pending.pop(key, None)
                    future.set_result(None)
                self.sent += 1
                self._memo[key] = (outcome, round(time.perf_counter() - started, 4))
        return self._result(key)

    def complete(self, request: CompletionRequest) -> Completion:
        key = request.model_dump_json()
        if key not in self._memo:
            started = time.perf_counter()
            try:
                outcome: Completion | EmptyResponse = self.inner.complete(request)
            except EmptyResponse as exc:
                outcome = exc
            self.sent += 1
            self._memo[key] = (outcome, round(time.perf_counter() - started, 4))
        return self._result(key)
