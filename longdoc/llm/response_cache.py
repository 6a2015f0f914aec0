"""The response cache: a model wrapper that answers a repeated request from the call log.

The key is a hash of the endpoint's identity, the model, the rendering style, the profile
and the request as that style sends it (the prompt or the messages, and every parameter),
so a change to any of them is a miss. Responses are cached at every temperature: longdoc's
jobs use temperature 0, and a rerun should reproduce a run. Every call, answered from here
or not, is written to the `CallLog` (see `call_log`).
"""

from __future__ import annotations

import hashlib
import json
import logging
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass

from ..errors import ModelError
from .base import Completion, CompletionRequest, Model, ModelWrapper
from .call_log import CallLog
from .identity import endpoint_identity
from .profiles import profile_of

_log = logging.getLogger(__name__)


def sent_json(request: CompletionRequest, completion_style: bool) -> str:
    """`request` as JSON with only the rendering a backend of that style is sent (the
    completion prompt, or the chat messages) and every parameter: what decides its answer, so
    what keys it, and what the log keeps (both renderings doubled the log, ~16 KB a call)."""
    unseeded = {"seed"} if request.seed is None else set()  # keys made before seeds stay valid
    if completion_style and request.prompt is not None:
        return request.model_dump_json(exclude={"messages", *unseeded})
    if not completion_style and request.messages:
        return request.model_dump_json(exclude={"prompt", *unseeded})
    return request.model_dump_json(exclude=unseeded)


def request_key(
    endpoint: str, model: str, completion_style: bool, request: CompletionRequest, request_json: str | None = None,
    profile: str = "",
) -> str:
    """The cache key of `request` sent to `model` at `endpoint` in the given style.

    The request part is `sent_json` (pydantic's JSON, fields in declaration order:
    deterministic), the same text the log row stores: a caller that has it already passes it
    as `request_json`, so a call serialises its request once, not twice. Keys made before
    2026-11-25 differ (they hashed a `json.dumps` of both renderings): such cache entries are
    simply not found again, and so are those made before profiles joined the key (2026-12-04):
    the same model name at the same endpoint under another profile never shares an answer.
    """
    head = json.dumps([endpoint, model, bool(completion_style), profile], ensure_ascii=False)
    body = request_json if request_json is not None else sent_json(request, completion_style)
    return hashlib.sha256(f"{head}\n{body}".encode()).hexdigest()


class CachedModel(ModelWrapper):
    """A model whose answers are looked up in, and written to, a `CallLog`.

    With `read=False` (`--no-cache`) every call reaches the backend; calls are still logged.
    """

    def __init__(
        self, inner: Model, log: CallLog, *, read: bool = True, endpoint: str | None = None
    ) -> None:
        super().__init__(inner)
        self.log = log
        self.read = read
        self.endpoint = endpoint or endpoint_identity(inner)
        """The endpoint identity in every key (the backend's, when `inner` wraps one)."""

    def _key(self, request: CompletionRequest) -> tuple[str, str, str]:
        """(endpoint, key, the request's JSON): serialised once, for the key and the log row."""
        endpoint = self.endpoint
        blob = sent_json(request, self.inner.completion_style)
        key = request_key(
            endpoint, self.inner.name, self.inner.completion_style, request, blob, profile_of(self.inner).name
        )
        return endpoint, key, blob

    def _hit(self, key: str, endpoint: str, request: CompletionRequest, started: float) -> Completion | None:
        if not self.read:
            return None
        try:
            stored = self.log.lookup(key)
        except sqlite3.Error as exc:  # an unreadable cache is a miss, not a failed call
            _log.warning("cache lookup failed in %s: %s", self.log.path, exc)
            return None
        if stored is None:
            return None
        hit = stored.model_copy(update={"cached": True, "latency_s": time.perf_counter() - started})
        self._write(self.log.record, key, endpoint, request, hit)
        return hit

    def _write(self, method: Callable[..., None], *args: object) -> None:
        """Log a call; a log that cannot be written (disk full, locked for too long) costs
        the cache entry, never the answer already paid for."""
        try:
            method(*args)
        except sqlite3.Error as exc:
            _log.warning("call log write failed in %s: %s", self.log.path, exc)

    def complete(self, request: CompletionRequest) -> Completion:
        call = self._begin(request)
        if call.hit is not None:
            return call.hit
        try:
            return call.done(self.inner.complete(request))
        except ModelError as exc:
            call.failed(exc)
            raise

    async def acomplete(self, request: CompletionRequest) -> Completion:
        call = self._begin(request)
        if call.hit is not None:
            return call.hit
        try:
            return call.done(await self.inner.acomplete(request))
        except ModelError as exc:
            call.failed(exc)
            raise

    def _begin(self, request: CompletionRequest) -> _Call:
        started = time.perf_counter()
        endpoint, key, blob = self._key(request)
        return _Call(self, request, started, endpoint, key, blob, self._hit(key, endpoint, request, started))


@dataclass
class _Call:
    """One call through the cache: its key, and the log line written when it ends (the
    same for `complete` and `acomplete`)."""

    cache: CachedModel
    request: CompletionRequest
    started: float
    endpoint: str
    key: str
    blob: str
    hit: Completion | None

    def done(self, completion: Completion) -> Completion:
        self.cache._write(self.cache.log.record, self.key, self.endpoint, self.request, completion, self.blob)
        return completion

    def failed(self, exc: ModelError) -> None:
        elapsed = time.perf_counter() - self.started
        self.cache._write(
            self.cache.log.record_error, self.key, self.endpoint, self.cache.inner.name, self.request, exc, elapsed,
            self.blob,
        )
