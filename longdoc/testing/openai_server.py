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

from ..llm.base import CompletionRequest, Message
from ..llm.fake import overlap_logprobs, overlap_rule

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
            raise ValueError(f"the test server binds loopback addresses only, not {host!r}")
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
        item = _Injected(Fault(fault), retry_after, delay)
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
                request = await _read_request(reader)
                if request is None:
                    break
                method, path, headers, raw = request
                status, extra_headers, payload = await self._respond(method, path, headers, raw)
                keep_alive = headers.get("connection", "").lower() != "close"
                _write_response(writer, status, extra_headers, payload, keep_alive)
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
            return 200, {}, _json(self._models())
        if method == "GET" and route == "/_stats":
            with self._lock:
                return 200, {}, _json(asdict(self.stats))
        if method == "POST" and route in ("/v1/chat/completions", "/v1/completions"):
            if body is None:
                return 400, {}, _json(_error("request body is not a JSON object", "invalid_request_error"))
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
        return 404, {}, _json(_error(f"no route {method} {path}", "not_found_error"))

    def _models(self) -> dict[str, Any]:
        created = int(time.time())
        data = [
            {
                "id": name,
                "object": "model",
                "created": created,
                "owned_by": "longdoc-test",
                "max_model_len": self.context_window,
                "meta": {"n_ctx": self.context_window},
            }
            for name in self.models
        ]
        return {"object": "list", "data": data}

    async def _complete(
        self, chat: bool, body: dict[str, Any], injected: _Injected | None
    ) -> tuple[int, dict[str, str], bytes, str | None]:
        """(status, headers, payload, the text served or None for an error response)."""
        fault = injected.fault if injected else None
        if fault is Fault.RATE_LIMIT:
            assert injected is not None
            headers = {"retry-after": f"{injected.retry_after:g}"}
            return 429, headers, _json(_error("injected rate limit", "rate_limit_exceeded")), None
        if fault is Fault.SERVER_ERROR:
            return 500, {}, _json(_error("injected server error", "server_error")), None
        if fault is Fault.SLOW:
            assert injected is not None
            await asyncio.sleep(injected.delay)
        if fault is Fault.MALFORMED:
            return 200, {}, b'{"id": "cmpl-broken", "choices": [{"text": "injected malfor', None
        request = _as_request(chat, body)
        prompt_text = request.prompt or ""
        prompt_tokens = len(prompt_text.split())
        if fault is Fault.CONTEXT_LENGTH or prompt_tokens > self.context_window:
            wanted = max(prompt_tokens, self.context_window + 1)
            message = (
                f"This model's maximum context length is {self.context_window} tokens. "
                f"However, your request has {wanted} input tokens."
            )
            return 400, {}, _json(_error(message, "invalid_request_error", "context_length_exceeded")), None
        text = "" if fault is Fault.EMPTY else self.reply(request)
        finish = "stop"
        for stop in request.stop:
            if stop and stop in text:
                text = text[: text.index(stop)]
        words = text.split()
        if len(words) > request.max_tokens:
            text, finish = " ".join(words[: request.max_tokens]), "length"
        logprobs = None
        if request.logprobs is not None and self.logprobs and fault is not Fault.EMPTY:
            logprobs = overlap_logprobs(request, text)
        usage = {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": len(text.split()),
            "total_tokens": prompt_tokens + len(text.split()),
        }
        model = str(body.get("model") or self.model)
        created = int(time.time())
        if chat:
            choice: dict[str, Any] = {
                "index": 0,
                "message": {"role": "assistant", "content": text},
                "finish_reason": finish,
                "logprobs": None,
            }
            if logprobs is not None:
                choice["logprobs"] = {
                    "content": [
                        {
                            "token": t.token,
                            "logprob": t.logprob,
                            "bytes": None,
                            "top_logprobs": [
                                {"token": tok, "logprob": lp, "bytes": None} for tok, lp in t.top
                            ],
                        }
                        for t in logprobs
                    ]
                }
            payload = {
                "id": f"chatcmpl-{created}",
                "object": "chat.completion",
                "created": created,
                "model": model,
                "choices": [choice],
                "usage": usage,
            }
        else:
            choice = {"index": 0, "text": text, "finish_reason": finish, "logprobs": None}
            if logprobs is not None:
                choice["logprobs"] = {
                    "tokens": [t.token for t in logprobs],
                    "token_logprobs": [t.logprob for t in logprobs],
                    "top_logprobs": [dict(t.top) for t in logprobs],
                    "text_offset": [0] * len(logprobs),
                }
            payload = {
                "id": f"cmpl-{created}",
                "object": "text_completion",
                "created": created,
                "model": model,
                "choices": [choice],
                "usage": usage,
            }
        return 200, {}, _json(payload), text


def _as_request(chat: bool, body: dict[str, Any]) -> CompletionRequest:
    """The request as longdoc's protocol sees it: the text to answer in `prompt`."""
    if chat:
        messages = tuple(
            Message(role=m.get("role", "user"), content=str(m.get("content") or ""))
            for m in body.get("messages") or ()
            if m.get("role") in ("system", "user", "assistant")
        )
        prompt = "\n\n".join(m.content for m in messages)
        top = body.get("top_logprobs") if body.get("logprobs") else None
        logprobs = int(top or 0) if body.get("logprobs") else None
    else:
        messages = ()
        raw_prompt = body.get("prompt") or ""
        prompt = raw_prompt if isinstance(raw_prompt, str) else "\n".join(map(str, raw_prompt))
        logprobs = int(body["logprobs"]) if body.get("logprobs") is not None else None
    stop = body.get("stop") or ()
    if isinstance(stop, str):
        stop = (stop,)
    max_tokens = body.get("max_tokens") or body.get("max_completion_tokens") or 512
    return CompletionRequest(
        messages=messages,
        prompt=prompt,
        max_tokens=int(max_tokens),
        temperature=float(body.get("temperature") or 0.0),
        stop=tuple(str(s) for s in stop),
        logprobs=min(logprobs, 20) if logprobs is not None else None,
    )


async def _read_request(
    reader: asyncio.StreamReader,
) -> tuple[str, str, dict[str, str], bytes] | None:
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError:
        return None
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) < 2:
        return None
    method, path = parts[0], parts[1]
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if ":" in line:
            name, value = line.split(":", 1)
            headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0") or 0)
    raw = await reader.readexactly(length) if length else b""
    return method, path, headers, raw


_REASONS = {200: "OK", 400: "Bad Request", 404: "Not Found", 429: "Too Many Requests", 500: "Internal Server Error"}


def _write_response(
    writer: asyncio.StreamWriter, status: int, headers: dict[str, str], payload: bytes, keep_alive: bool
) -> None:
    lines = [
        f"HTTP/1.1 {status} {_REASONS.get(status, 'Status')}",
        "content-type: application/json",
        f"content-length: {len(payload)}",
        f"connection: {'keep-alive' if keep_alive else 'close'}",
        *(f"{name}: {value}" for name, value in headers.items()),
    ]
    writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + payload)


def _json(obj: object) -> bytes:
    return json.dumps(obj).encode("utf-8")


def _error(message: str, kind: str, code: str | None = None) -> dict[str, Any]:
    return {"error": {"message": message, "type": kind, "param": None, "code": code or kind}}


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
