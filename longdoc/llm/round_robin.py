"""Several endpoints serving the same model, used in turn: one client drives a fleet.

Each call goes to the next endpoint (a plain rotation, not load-aware: every endpoint is
given the same share of calls, and each keeps its own concurrency limit and retries).
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Sequence

from ..errors import InvalidValue
from .base import Completion, CompletionRequest, Model, supports_schema
from .profiles import profile_of


class RoundRobinModel:
    """Calls `models` in rotation; they must serve the same model (same name and style)."""

    def __init__(self, models: Sequence[Model]) -> None:
        if not models:
            raise InvalidValue("RoundRobinModel needs at least one model, got none", setting="models", value=[])
        self.models = list(models)
        self.name = self.models[0].name
        self.context_window = min(m.context_window for m in self.models)
        self.completion_style = self.models[0].completion_style
        self.profile = profile_of(self.models[0])
        self.structured_output = all(supports_schema(m) for m in self.models)
        self._turn = itertools.cycle(range(len(self.models)))
        self._lock = threading.Lock()

    def _next(self) -> Model:
        with self._lock:
            return self.models[next(self._turn)]

    def complete(self, request: CompletionRequest) -> Completion:
        return self._next().complete(request)

    async def acomplete(self, request: CompletionRequest) -> Completion:
        return await self._next().acomplete(request)
