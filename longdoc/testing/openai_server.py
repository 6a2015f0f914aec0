"""An OpenAI-compatible HTTP server on loopback that injects faults, for tests and benchmarks.

    with OpenAITestServer(latency=0.1) as server:
        server.inject(Fault.RATE_LIMIT, times=2, retry_after=0.05)
        model = OpenAIModel(base_url=server.url, model=server.model)
        ...
        server.stats.max_in_flight

It serves `GET /v1/models` (with llama.cpp-style `meta.n_ctx` and vLLM-style
`max_model_len`), `POST /v1/chat/completions` and `POST /v1/completions`, keep-alive
HTTP/1.1, in its own thread and event loop, on 127.0.0.1 only. Replies are deterministic:
by default FakeModel's rule (the prompt's sentences that share words with its question),
cut at stop sequences and at `max_tokens` words; token logprobs on request. `reply` may be
any function of the request (its `messages`, `prompt`, `stop`, `max_tokens`), so a test can
route replies by what a request contains (a worker's chunk, a manager's notes) rather than
by call order. Injected
faults are served to the next completion requests, in the order injected:

- `RATE_LIMIT`: 429 with `Retry-After` (seconds)     - `SERVER_ERROR`: 500
- `SLOW`: answers only after `delay` seconds           - `EMPTY`: 200 with empty text
- `MALFORMED`: 200 with a body that is not JSON        - `CONTEXT_LENGTH`: 400 context_length_exceeded

A prompt longer than `context_window` words gets the context-length error without injection.
`stats` counts requests, completion requests in flight and their maximum (also served as
JSON at `GET /_stats`); `requests` records each request's path, headers and JSON body, and
for a completion its `reply`, the text served (tests check what reached the server and
what it answered).

Run it as its own process (so that a benchmark's client does not share a GIL with it):
`python -m longdoc.testing --latency 0.1` prints its URL, then serves until
its standard input closes.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import json
import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from enum import StrEnum
from typing import Any

from ..errors import InvalidValue
from ..llm.base import CompletionRequest
from ..llm.fake import capped_reply, overlap_logprobs, overlap_rule
from .http_wire import read_request, write_response
from .openai_payloads import as_request, completion_body, error_body, json_bytes, models_body

Reply = Callable[[CompletionRequest], str]

LOOPBACK_HOSTS = ("127.0.0.1", "::1", "localhost")
MAX_BODY = 64 * 1024 * 1024
"""Largest request body accepted; a long-document prompt is well below this."""


class Fault(StrEnum):
    RATE_LIMIT = "429"
    SERVER_ERROR = "500"
    SLOW = "slow"
    EMPTY = "empty"
    MALFORMED = "malformed"
    CONTEXT_LENGTH = "context_length"


@dataclass
class ServerStats:
    requests: int = 0
    """Every HTTP request, /v1/models included."""
    completions: int = 0
    """Completion requests (chat or text), faulty ones included."""
    in_flight: int = 0
    max_in_flight: int = 0
    connections: int = 0
    """TCP connections accepted (keep-alive clients reuse theirs)."""
    faults: Counter[str] = field(default_factory=Counter)
    """Faults served, by `Fault` value."""


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]
    """Lower-cased header names."""
    body: dict[str, Any] | None
    at: float
    reply: str | None = None
    """The text served for a completion request (after stop sequences and `max_tokens`);
    None for other requests and for error responses (an injected EMPTY fault serves "")."""


@dataclass(frozen=True)
class _Injected:
    fault: Fault
    retry_after: float
    delay: float


class OpenAITestServer:
    """Start with `start()` or as a context manager; `url` ends in `/v1`."""

    def __init__(
        self,
        *,
        model: str = "test-model",
        models: tuple[str, ...] | None = None,
        latency: float = 0.0,
        context_window: int = 4096,
        reply: Reply | None = None,
        logprobs: bool = True,
        host: str = "127.0.0.1",
    ) -> None:
        if host not in LOOPBACK_HOSTS and not _is_loopback(host):
            raise InvalidValue(f"the test server binds loopback addresses only, not {host!r}", setting="host", value=host)
        self.host = host
        self.model = model
        self.models = models or (model,)
        self.latency = latency
        self.context_window = context_window
        self.reply: Reply = reply or overlap_rule
        self.logprobs = logprobs
        self.stats = ServerStats()
        self.requests: list[RecordedRequest] = []
        self._faults: deque[_Injected] = deque()
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.base_events.Server | None = None
        self._thread: threading.Thread | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.port: int | None = None

    # -- control ------------------------------------------------------------------

    @property
    def url(self) -> str:
        if self.port is None:
            raise RuntimeError("the test server is not running")
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/v1"

    def inject(
        self, fault: Fault | str, *, times: int = 1, retry_after: float = 0.05, delay: float = 30.0
    ) -> None:
        """Serve `fault` to the next `times` completion requests (after earlier injections)."""
        try:
            kind = Fault(fault)
        except ValueError:
            choices = ", ".join(f.value for f in Fault)
            raise InvalidValue(f"unknown fault {fault!r}; choose one of {choices}", setting="fault", value=fault) from None
        item = _Injected(kind, retry_after, delay)
        with self._lock:
            self._faults.extend([item] * times)

    def pending_faults(self) -> int:
        with self._lock:
            return len(self._faults)

    def reset(self) -> None:
        """Forget counters, recorded requests and pending faults."""
        with self._lock:
            self._faults.clear()
            self.stats = ServerStats()
            self.requests = []

    def start(self) -> OpenAITestServer:
        ready = threading.Event()
        errors: list[BaseException] = []

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            try:
                self._server = loop.run_until_complete(
                    asyncio.start_server(self._serve_connection, self.host, 0, limit=MAX_BODY)
                )
                self.port = self._server.sockets[0].getsockname()[1]
            except OSError as exc:
                errors.append(exc)
                ready.set()
                loop.close()
                return
            ready.set()
            loop.run_forever()
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

        self._thread = threading.Thread(target=run, name="openai-test-server", daemon=True)
        self._thread.start()
        ready.wait()
        if errors:
            raise errors[0]
        return self

    def stop(self) -> None:
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return

        async def shutdown() -> None:
            if self._server is not None:
                self._server.close()
            for task in list(self._tasks):
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)

        with contextlib.suppress(RuntimeError):  # loop already stopped
            asyncio.run_coroutine_threadsafe(shutdown(), loop).result(timeout=10)
            loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        self._loop = self._thread = None
        self.port = None

    def __enter__(self) -> OpenAITestServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- HTTP ---------------------------------------------------------------------

    async def _serve_connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        with self._lock:
            self.stats.connections += 1
        try:
            while True:
                request = await read_request(reader)
                if request is None:
                    break
                method, path, headers, raw = request
                status, extra_headers, payload = await self._respond(method, path, headers, raw)
                keep_alive = headers.get("connection", "").lower() != "close"
                write_response(writer, status, extra_headers, payload, keep_alive)
                await writer.drain()
                if not keep_alive:
                    break
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError):
            pass
        finally:
            self._tasks.discard(task)
            writer.close()
            with contextlib.suppress(ConnectionError, asyncio.CancelledError):
                await writer.wait_closed()

    async def _respond(
        self, method: str, path: str, headers: dict[str, str], raw: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        body: dict[str, Any] | None = None
        if raw:
            try:
                parsed = json.loads(raw)
                body = parsed if isinstance(parsed, dict) else None
            except ValueError:
                body = None
        with self._lock:
            self.stats.requests += 1
            log = self.requests  # the list recorded in, even if reset() replaces it meanwhile
            log.append(RecordedRequest(method, path, headers, body, time.time()))
            slot = len(log) - 1
        route = path.split("?", 1)[0].rstrip("/")
        if method == "GET" and route == "/v1/models":
            return 200, {}, json_bytes(models_body(self.models, self.context_window))
        if method == "GET" and route == "/_stats":
            with self._lock:
                return 200, {}, json_bytes(asdict(self.stats))
        if method == "POST" and route in ("/v1/chat/completions", "/v1/completions"):
            if body is None:
                return 400, {}, json_bytes(error_body("request body is not a JSON object", "invalid_request_error"))
            with self._lock:
                stats = self.stats  # the object counted in, even if reset() replaces it meanwhile
                stats.completions += 1
                stats.in_flight += 1
                stats.max_in_flight = max(stats.max_in_flight, stats.in_flight)
                injected = self._faults.popleft() if self._faults else None
                if injected is not None:
                    stats.faults[injected.fault.value] += 1
            try:
                if self.latency:
                    await asyncio.sleep(self.latency)
                status, extra, payload, text = await self._complete(
                    route.endswith("chat/completions"), body, injected
                )
                if text is not None:
                    with self._lock:
                        log[slot] = replace(log[slot], reply=text)
                return status, extra, payload
            finally:
                with self._lock:
                    stats.in_flight -= 1
        return 404, {}, json_bytes(error_body(f"no route {method} {path}", "not_found_error"))

    async def _complete(
        self, chat: bool, body: dict[str, Any], injected: _Injected | None
    ) -> tuple[int, dict[str, str], bytes, str | None]:
        """(status, headers, payload, the text served or None for an error response)."""
        fault = injected.fault if injected else None
        if fault is Fault.RATE_LIMIT:
            assert injected is not None
            headers = {"retry-after": f"{injected.retry_after:g}"}
            return 429, headers, json_bytes(error_body("injected rate limit", "rate_limit_exceeded")), None
        if fault is Fault.SERVER_ERROR:
            return 500, {}, json_bytes(error_body("injected server error", "server_error")), None
        if fault is Fault.SLOW:
            assert injected is not None
            await asyncio.sleep(injected.delay)
        if fault is Fault.MALFORMED:
            return 200, {}, b'{"id": "cmpl-broken", "choices": [{"text": "injected malfor', None
        request = as_request(chat, body)
        prompt_text = request.prompt or ""
        prompt_tokens = len(prompt_text.split())
        if fault is Fault.CONTEXT_LENGTH or prompt_tokens > self.context_window:
            wanted = max(prompt_tokens, self.context_window + 1)
            message = (
                f"This model's maximum context length is {self.context_window} tokens. "
                f"However, your request has {wanted} input tokens."
            )
            return 400, {}, json_bytes(error_body(message, "invalid_request_error", "context_length_exceeded")), None
        text, finish = capped_reply(request, "" if fault is Fault.EMPTY else self.reply(request))
        logprobs = None
        if request.logprobs is not None and self.logprobs and fault is not Fault.EMPTY:
            logprobs = overlap_logprobs(request, text)
        payload = completion_body(
            chat,
            model=str(body.get("model") or self.model),
            text=text,
            finish=finish,
            logprobs=logprobs,
            prompt_tokens=prompt_tokens,
        )
        return 200, {}, json_bytes(payload), text


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def main(argv: list[str] | None = None) -> None:
    import argparse
    import sys

    parser = argparse.ArgumentParser(description="OpenAI-compatible test server on loopback.")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds added to each completion")
    parser.add_argument("--model", default="test-model")
    parser.add_argument("--context-window", type=int, default=4096)
    args = parser.parse_args(argv)
    with OpenAITestServer(model=args.model, latency=args.latency, context_window=args.context_window) as server:
        print(server.url, flush=True)
        sys.stdin.read()  # serve until the parent closes our stdin
