"""The `openai` backend: any OpenAI-compatible endpoint through the official client.

Chat completions by default; with `completion_style=True` the legacy completions endpoint
with the request's completion rendering, for base models served by vLLM, SGLang or
llama.cpp. One thread-safe sync client serves `complete` and, from worker threads,
`acomplete`, each call through the client's raw `post`: its auth, retries and errors, without
its typed request and response models (see `complete`). Retries (429 with Retry-After, 5xx,
timeouts, connection errors) are the client's own, `max_retries` times; what is still
failing after them becomes a typed `ModelError` carrying the HTTP status and the number of
attempts, counted by an httpx event hook. Nothing the server says in an error ever comes
back as completion text.
"""

from __future__ import annotations

import asyncio
import contextvars
import json
import re
import ssl
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import openai

from ..errors import (
    ConfigError,
    ContextLengthExceeded,
    EmptyResponse,
    LogprobsUnsupported,
    ModelError,
    ModelUnavailable,
)
from .base import Completion, CompletionRequest, TokenLogprob, Usage
from .catalog import DEFAULT_HOSTED_MODEL, UNKNOWN_WINDOW, cost_usd, known_price, known_window
from .fake import request_text
from .profiles import ModelProfile, default_profile

OPENAI_HOST = "api.openai.com"

OPENAI_MAX_STOPS = 4

FIXED_TEMPERATURE_PREFIXES = ("o1", "o3", "o4", "gpt-5")
"""OpenAI's reasoning models reject any temperature but their default."""

NO_KEY = "no-key"
"""Sent as the bearer token to endpoints that need none (the client insists on one)."""

_attempts: contextvars.ContextVar[list[int] | None] = contextvars.ContextVar(
    "longdoc_openai_attempts", default=None
)

_CONTEXT_MARKERS = (
    "context_length_exceeded",
    "maximum context length",
    "context length",
    "exceed_context_size",
    "exceeds the available context size",
    "too many tokens",
    "prompt is too long",
)
_NUMBER = re.compile(r"\d[\d,]*")


def cut_at_stops(text: str, stops: tuple[str, ...]) -> str:
    """`text` up to the first stop sequence (servers that honour them leave none)."""
    cut = min((text.find(stop) for stop in stops if stop and stop in text), default=-1)
    return text if cut < 0 else text[:cut]


def public_url(url: str) -> str:
    """`url` without user:password@ or a query string (where tokens sometimes ride along),
    fit for logs, messages and cache keys."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


def is_openai_endpoint(base_url: str | None) -> bool:
    return base_url is None or OPENAI_HOST in base_url


def _count_attempt(_request: object) -> None:
    box = _attempts.get()
    if box is not None:
        box[0] += 1


_threads: ThreadPoolExecutor | None = None
_threads_lock = threading.Lock()

CALL_THREADS = 256
"""Upper bound on worker threads for async calls; the per-endpoint limits keep the number
actually in use at the configured concurrency (threads start only when needed)."""


_tls_context: ssl.SSLContext | None = None
_tls_lock = threading.Lock()


def shared_tls_context() -> ssl.SSLContext | None:
    """One TLS context for every client of this process, made the way the openai client's
    HTTP library makes its default (system or `SSL_CERT_FILE` trust, `trust_env`).

    Each new client would otherwise load the CA bundle itself (~15 ms, ~40 ms with a busy
    core): per endpoint of a fleet, per worker process of a dataset run (whose fork server
    makes this one first, so every worker inherits it). None when that library offers no
    `create_ssl_context` (the client then makes its own, as before).
    """
    global _tls_context
    with _tls_lock:
        if _tls_context is None:
            base = openai.DefaultHttpxClient.__mro__[1]  # the HTTP library's Client
            library = sys.modules.get(base.__module__.split(".")[0])
            make = getattr(library, "create_ssl_context", None)
            if make is None:
                return None
            _tls_context = make()
        return _tls_context


def _call_threads() -> ThreadPoolExecutor:
    global _threads
    with _threads_lock:
        if _threads is None:
            _threads = ThreadPoolExecutor(max_workers=CALL_THREADS, thread_name_prefix="longdoc-call")
        return _threads


class OpenAIModel:
    """One model on one OpenAI-compatible endpoint. `model=None` resolves lazily: the
    endpoint's only model, else `DEFAULT_HOSTED_MODEL`."""

    def __init__(
        self,
        *,
        model: str | None = None,
        base_url: str | None = None,
        api_key: str | None = None,
        window: int | None = None,
        timeout: float = 600.0,
        max_retries: int = 4,
        completion_style: bool = False,
        extra_body: dict[str, Any] | None = None,
        profile: ModelProfile | None = None,
    ) -> None:
        self._model = model
        self.base_url = base_url.rstrip("/") if base_url else None
        self._api_key = api_key or NO_KEY
        self._window = window
        self.timeout = timeout
        self.max_retries = max_retries
        self.completion_style = completion_style
        self.profile = profile or default_profile(completion_style)
        self.extra_body = dict(extra_body or {})
        self._lock = threading.RLock()  # name resolution opens the client under it
        self._sync: openai.OpenAI | None = None
        self._served: list[dict[str, Any]] | None = None

    # -- identity -------------------------------------------------------------------

    @property
    def cache_identity(self) -> str:
        style = "completions" if self.completion_style else "chat"
        extra = ",".join(f"{k}={v}" for k, v in sorted(self.extra_body.items()))
        return f"openai:{self.where}:{style}:{extra}"

    @property
    def name(self) -> str:
        if self._model is None:
            with self._lock:
                if self._model is None:
                    self._model = self._resolve_model()
        return self._model

    @property
    def context_window(self) -> int:
        if self._window is None:
            self._window = self._discover_window()
        return self._window

    @property
    def price(self) -> tuple[float, float] | None:
        """USD per million tokens; known for OpenAI's own endpoint only."""
        return known_price(self.name) if is_openai_endpoint(self.base_url) else None

    @property
    def where(self) -> str:
        """The endpoint, for messages and cache keys (no credentials)."""
        return public_url(self.base_url) if self.base_url else OPENAI_HOST

    def _endpoint_url(self) -> str | None:
        """The base URL to connect to (a subclass may start a server here)."""
        return self.base_url

    def served_models(self) -> list[dict[str, Any]]:
        """The endpoint's `/v1/models` entries, with any extra metadata they carry."""
        if self._served is None:
            client = self._sync_client()
            box = [0]
            token = _attempts.set(box)
            try:
                page = client.models.list()
            except openai.APIError as exc:
                raise self._typed_error(exc, box[0], "listing models") from exc
            finally:
                _attempts.reset(token)
            self._served = [m.to_dict() for m in page.data]
        return self._served

    def _resolve_model(self) -> str:
        if is_openai_endpoint(self.base_url):
            return DEFAULT_HOSTED_MODEL
        ids = [str(m.get("id")) for m in self.served_models()]
        if len(ids) == 1:
            return ids[0]
        if DEFAULT_HOSTED_MODEL in ids:
            return DEFAULT_HOSTED_MODEL
        listing = ", ".join(ids[:10]) or "none"
        raise ConfigError(
            f"{self.where} serves {len(ids)} models ({listing}); choose one with --model"
        )

    def _discover_window(self) -> int:
        name = self.name
        if not is_openai_endpoint(self.base_url):
            for entry in self.served_models():
                if entry.get("id") == name:
                    reported = _reported_window(entry)
                    if reported:
                        return reported
        return known_window(name) or UNKNOWN_WINDOW

    # -- clients --------------------------------------------------------------------

    def _sync_client(self) -> openai.OpenAI:
        if self._sync is None:
            with self._lock:
                if self._sync is None:
                    self._sync = openai.OpenAI(
                        api_key=self._api_key,
                        base_url=self._endpoint_url(),
                        timeout=self.timeout,
                        max_retries=self.max_retries,
                        http_client=openai.DefaultHttpxClient(
                            event_hooks={"request": [_count_attempt]},
                            **_tls_option(),
                        ),
                    )
        return self._sync

    # -- calls ----------------------------------------------------------------------

    def _params(self, request: CompletionRequest) -> dict[str, Any]:
        """The request body: the endpoint's extra fields over the standard ones."""
        params: dict[str, Any] = {"model": self.name}
        if not (is_openai_endpoint(self.base_url) and self.name.startswith(FIXED_TEMPERATURE_PREFIXES)):
            params["temperature"] = request.temperature
        if request.stop:
            # OpenAI takes at most 4 stop sequences; the rest are applied to the reply here.
            stops = list(request.stop)
            params["stop"] = stops[:OPENAI_MAX_STOPS] if is_openai_endpoint(self.base_url) else stops
        if self.completion_style:
            params["prompt"] = request_text(request)
            params["max_tokens"] = request.max_tokens
            if request.logprobs is not None:
                params["logprobs"] = request.logprobs
            if request.json_schema is not None and self.schema_field:
                params[self.schema_field] = request.json_schema
            return params | self.extra_body
        messages = [{"role": m.role, "content": m.content} for m in request.messages]
        if not messages:
            messages = [{"role": "user", "content": request_text(request)}]
        params["messages"] = messages
        # OpenAI's newer models take only max_completion_tokens; other servers know max_tokens.
        key = "max_completion_tokens" if is_openai_endpoint(self.base_url) else "max_tokens"
        params[key] = request.max_tokens
        if request.logprobs is not None:
            params["logprobs"] = True
            params["top_logprobs"] = request.logprobs
        if request.json_schema is not None:
            params["response_format"] = {
                "type": "json_schema",
                "json_schema": {"name": "reply", "schema": request.json_schema, "strict": True},
            }
        return params | self.extra_body

    def complete(self, request: CompletionRequest) -> Completion:
        params = self._params(request)
        client = self._sync_client()
        box = [0]
        token = _attempts.set(box)
        started = time.perf_counter()
        try:
            # The client's own request path (auth, retries, typed status errors) with the
            # body as built here and the reply as bytes: `completions.create` would convert
            # the params and the reply through its typed models, ~0.4 ms of CPU a call that
            # a fast endpoint driven at high concurrency makes the client's bottleneck.
            raw = client.post(self._path, cast_to=bytes, body=params)
        except openai.APIError as exc:
            raise self._typed_error(exc, box[0]) from exc
        finally:
            _attempts.reset(token)
        try:
            response = json.loads(raw)
        except ValueError as exc:  # a body that is not JSON
            raise ModelError(
                f"{self.name}: malformed response: {exc}", model=self.name, status=200, attempts=box[0]
            ) from exc
        return self._completion(request, response, time.perf_counter() - started, box[0])

    schema_field: str | None = None
    """The completions-endpoint field that constrains a reply to a JSON schema on this
    server (llama.cpp: `json_schema`); None where no such field is known. Chat requests use
    the standard `response_format`."""

    @property
    def structured_output(self) -> bool:
        """Chat endpoints take `response_format` with a JSON schema (OpenAI, vLLM, SGLang,
        llama.cpp's server, Ollama); a completions endpoint only where its field is known."""
        return not self.completion_style or self.schema_field is not None

    @property
    def _path(self) -> str:
        return "/completions" if self.completion_style else "/chat/completions"

    async def acomplete(self, request: CompletionRequest) -> Completion:
        # The thread-safe sync client in a worker thread: on a 2-core machine this kept
        # 16 calls in flight with less overhead than AsyncOpenAI (bench_concurrency), and
        # it holds no per-event-loop state. Callers bound how many run at once.
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(_call_threads(), self.complete, request)

    # -- responses ------------------------------------------------------------------

    def _completion(
        self, request: CompletionRequest, response: Any, latency: float, attempts: int
    ) -> Completion:
        choices = response.get("choices") if isinstance(response, dict) else None
        if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
            raise EmptyResponse(
                f"{self.name} returned no choices", model=self.name, status=200, attempts=attempts
            )
        choice = choices[0]
        if self.completion_style:
            text = choice.get("text")
        else:
            message = choice.get("message")
            text = message.get("content") if isinstance(message, dict) else None
        finish_reason = choice.get("finish_reason")
        logprobs = _parse_logprobs(choice.get("logprobs")) if request.logprobs is not None else None
        if isinstance(text, str):
            text = cut_at_stops(text, request.stop)
        if not isinstance(text, str) or (not text.strip() and not logprobs):
            # Blank text is an answer only when it comes with the token logprobs asked for
            # (a scorer reading one whitespace token's distribution).
            raise EmptyResponse(
                f"{self.name} returned no text (finish reason {finish_reason!r})",
                model=self.name,
                status=200,
                attempts=attempts,
                finish_reason=finish_reason if isinstance(finish_reason, str) else None,
            )
        if request.logprobs is not None and not logprobs:
            raise LogprobsUnsupported(
                f"{self.name} at {self.where} returned no token logprobs",
                model=self.name,
                status=200,
                attempts=attempts,
            )
        counts = response.get("usage") if isinstance(response.get("usage"), dict) else {}
        usage = Usage(
            prompt_tokens=_count(counts.get("prompt_tokens")),
            completion_tokens=_count(counts.get("completion_tokens")),
        )
        model = response.get("model")
        return Completion(
            text=text,
            model=model if isinstance(model, str) and model else self.name,
            finish_reason=finish_reason if isinstance(finish_reason, str) else None,
            usage=usage,
            logprobs=logprobs,
            latency_s=latency,
            cost_usd=cost_usd(self.price, usage.prompt_tokens, usage.completion_tokens),
        )

    def _typed_error(self, exc: openai.APIError, attempts: int, doing: str = "completion") -> ModelError:
        model = self._model or "(unresolved model)"
        where = self.where
        attempts = max(attempts, 1)
        if isinstance(exc, openai.APITimeoutError):
            return ModelError(
                f"{model} at {where}: {doing} timed out after {self.timeout:g}s, {attempts} attempts",
                model=model,
                attempts=attempts,
            )
        if isinstance(exc, openai.APIConnectionError):
            return ModelUnavailable(
                f"cannot reach {where} ({doing}, {attempts} attempts): {exc}", model=model, attempts=attempts
            )
        if isinstance(exc, openai.APIStatusError):
            status = exc.status_code
            detail = _error_detail(exc)
            if status in (400, 413, 422) and _is_context_error(detail):
                prompt_tokens, window = _context_numbers(exc, detail)
                return ContextLengthExceeded(
                    f"{model}: the prompt does not fit the context window: {detail}",
                    model=model,
                    prompt_tokens=prompt_tokens,
                    window=window,
                    status=status,
                    attempts=attempts,
                )
            hint = ""
            if status in (401, 403):
                hint = " (check the key: OPENAI_API_KEY for OpenAI, LONGDOC_API_KEY for other endpoints)"
            elif status == 404:
                hint = " (is the model name right? `longdoc llm` with --model NAME checks it)"
            return ModelError(
                f"{model} at {where}: HTTP {status} after {attempts} attempts: {detail}{hint}",
                model=model,
                status=status,
                attempts=attempts,
            )
        return ModelError(f"{model} at {where}: {exc}", model=model, attempts=attempts)


def _tls_option() -> dict[str, Any]:
    context = shared_tls_context()
    return {} if context is None else {"verify": context}


def _count(value: Any) -> int:
    """A token count from a reply's usage (absent, null or not a number: 0)."""
    return value if isinstance(value, int) and value > 0 else 0


def _reported_window(entry: dict[str, Any]) -> int | None:
    """The window a server reports in `/v1/models`: vLLM's `max_model_len`, llama.cpp's
    `meta.n_ctx`, or a `context_length` field."""
    meta = entry.get("meta") if isinstance(entry.get("meta"), dict) else {}
    for value in (entry.get("max_model_len"), meta.get("n_ctx"), entry.get("context_length")):
        if isinstance(value, int) and value > 0:
            return value
    return None


def _error_detail(exc: openai.APIStatusError) -> str:
    body = exc.body
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict):
            message = str(inner.get("message") or inner.get("type") or inner.get("code") or "")
            code = str(inner.get("type") or inner.get("code") or "")
            if message:
                return f"{message} [{code}]" if code and code not in message else message
        elif isinstance(inner, str):
            return inner
    return str(exc.message or exc)[:500]


def _is_context_error(detail: str) -> bool:
    lowered = detail.lower()
    return any(marker in lowered for marker in _CONTEXT_MARKERS)


def _context_numbers(exc: openai.APIStatusError, detail: str) -> tuple[int | None, int | None]:
    """(prompt tokens, window) from structured fields (llama.cpp's n_prompt_tokens/n_ctx)
    or from the message ("maximum context length is 8192 tokens ... 9000 tokens")."""
    body = exc.body if isinstance(exc.body, dict) else {}
    inner = body.get("error", body) if isinstance(body.get("error", body), dict) else {}
    prompt_tokens = inner.get("n_prompt_tokens")
    window = inner.get("n_ctx")
    if isinstance(prompt_tokens, int) and isinstance(window, int):
        return prompt_tokens, window
    numbers = [int(n.replace(",", "")) for n in _NUMBER.findall(detail)]
    numbers = [n for n in numbers if n >= 16]
    if len(numbers) >= 2:
        return numbers[1], numbers[0]
    return None, numbers[0] if numbers else None


def _parse_logprobs(raw: Any) -> tuple[TokenLogprob, ...] | None:
    """Token logprobs from a chat (`content`), legacy completions (`tokens`,
    `token_logprobs`, `top_logprobs`) or llama.cpp completions (`content`) response."""
    if not isinstance(raw, dict):
        return None
    data = raw
    content = data.get("content")
    if isinstance(content, list) and content:
        entries = []
        for item in content:
            top = tuple(
                (str(alt.get("token", "")), float(alt.get("logprob", 0.0)))
                for alt in item.get("top_logprobs") or ()
            )
            entries.append(
                TokenLogprob(token=str(item.get("token", "")), logprob=float(item.get("logprob", 0.0)), top=top)
            )
        return tuple(entries)
    tokens = data.get("tokens")
    if isinstance(tokens, list) and tokens:
        token_logprobs = data.get("token_logprobs") or [0.0] * len(tokens)
        tops = data.get("top_logprobs") or [None] * len(tokens)
        entries = []
        for token, logprob, top in zip(tokens, token_logprobs, tops, strict=False):
            alternatives = tuple(sorted((top or {}).items(), key=lambda kv: -kv[1]))
            entries.append(
                TokenLogprob(token=str(token), logprob=float(logprob or 0.0), top=alternatives)
            )
        return tuple(entries)
    return None
