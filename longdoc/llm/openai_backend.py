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

Beside it: which endpoint and which key (`openai_endpoint`), what every client of the
process shares (`openai_client`), what failures become (`openai_errors`) and what replies
become (`openai_replies`).
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from typing import TYPE_CHECKING, Any

import openai

from ..errors import ConfigError, ModelError
from .base import Completion, CompletionRequest
from .catalog import (
    DEFAULT_HOSTED_MODEL,
    REASONING_ALLOWANCE,
    UNKNOWN_WINDOW,
    is_reasoning_model,
    known_price,
    known_window,
)
from .fake import request_text
from .openai_client import call_threads, counted_attempts, new_client
from .openai_endpoint import NO_KEY, OPENAI_HOST, api_key_for, is_openai_endpoint, public_url
from .openai_errors import typed_error
from .openai_replies import completion_from, reported_window
from .profiles import ModelProfile, default_profile, resolved_profile

if TYPE_CHECKING:
    from ..config import Settings
    from .registry import Register

OPENAI_BACKEND = "openai"
"""This backend's name; also the backend of every model name no backend is registered as."""

OPENAI_MAX_STOPS = 4

FIXED_TEMPERATURE_PREFIXES = ("o1", "o3", "o4", "gpt-5")
"""OpenAI's reasoning models reject any temperature but their default."""


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
            with counted_attempts() as box:
                try:
                    page = client.models.list()
                except openai.APIError as exc:
                    raise self._typed_error(exc, box[0], "listing models") from exc
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
                    reported = reported_window(entry)
                    if reported:
                        return reported
        return known_window(name) or UNKNOWN_WINDOW

    # -- clients --------------------------------------------------------------------

    def _sync_client(self) -> openai.OpenAI:
        if self._sync is None:
            with self._lock:
                if self._sync is None:
                    self._sync = new_client(
                        api_key=self._api_key,
                        base_url=self._endpoint_url(),
                        timeout=self.timeout,
                        max_retries=self.max_retries,
                    )
        return self._sync

    # -- calls ----------------------------------------------------------------------

    def _params(self, request: CompletionRequest) -> dict[str, Any]:
        """The request body: the endpoint's extra fields over the standard ones."""
        params: dict[str, Any] = {"model": self.name}
        if not (is_openai_endpoint(self.base_url) and self.name.startswith(FIXED_TEMPERATURE_PREFIXES)):
            params["temperature"] = request.temperature
        if request.seed is not None:
            params["seed"] = request.seed
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
        started = time.perf_counter()
        with counted_attempts() as box:
            try:
                # The client's own request path (auth, retries, typed status errors) with the
                # body as built here and the reply as bytes: `completions.create` would convert
                # the params and the reply through its typed models, ~0.4 ms of CPU a call that
                # a fast endpoint driven at high concurrency makes the client's bottleneck.
                raw = client.post(self._path, cast_to=bytes, body=params)
            except openai.APIError as exc:
                raise self._typed_error(exc, box[0]) from exc
        try:
            response = json.loads(raw)
        except ValueError as exc:  # a body that is not JSON
            raise ModelError(
                f"{self.name}: malformed response: {exc}", model=self.name, status=200, attempts=box[0]
            ) from exc
        return completion_from(
            request,
            response,
            model=self.name,
            where=self.where,
            completion_style=self.completion_style,
            price=self.price,
            latency=time.perf_counter() - started,
            attempts=box[0],
        )

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
        return await loop.run_in_executor(call_threads(), self.complete, request)

    def _typed_error(self, exc: openai.APIError, attempts: int, doing: str = "completion") -> ModelError:
        return typed_error(
            exc,
            model=self._model or "(unresolved model)",
            where=self.where,
            timeout=self.timeout,
            attempts=attempts,
            doing=doing,
        )


def openai_from_settings(settings: Settings) -> OpenAIModel:
    """The model `settings` name at their endpoint (OpenAI's own without a base URL), with
    the key `api_key_for` allows there and a thinking allowance for reasoning models."""
    key = api_key_for(settings)
    if settings.base_url is None and key is None:
        raise ConfigError(
            f"model {settings.model or '(default)'!r} needs an endpoint: set OPENAI_API_KEY for "
            "OpenAI, or --base-url (OPENAI_BASE_URL) for another server, or use --model local",
            setting="endpoint",
            value=settings.model,
        )
    profile = resolved_profile(settings, completion_style=bool(settings.completion_style))
    thinking = settings.max_output
    if thinking is None and settings.model and is_reasoning_model(settings.model):
        thinking = REASONING_ALLOWANCE
    if thinking:
        profile = profile.model_copy(update={"reasoning_tokens": thinking})
    return OpenAIModel(
        profile=profile,
        model=settings.model,
        base_url=settings.base_url,
        api_key=key,
        window=settings.window,
        timeout=settings.timeout,
        max_retries=settings.max_retries,
        completion_style=profile.completion_style,
    )


def register_backends(register: Register) -> None:
    register(
        OPENAI_BACKEND,
        openai_from_settings,
        description="any model at an OpenAI-compatible endpoint (OpenAI, vLLM, SGLang, llama.cpp, Ollama)",
    )
