"""`load_model(settings)`: the configured backend, bounded and cached, ready to call.

Which backend: `fake` -> FakeModel; `local` -> the embedded base model; `local-instruct`
-> the embedded chat model; anything else (or None with an endpoint or key configured) ->
the `openai` backend. Every backend is wrapped the same way: a per-endpoint concurrency
limit (`settings.concurrency`), then the SQLite cache and call log in `settings.cache_dir`
(read unless `settings.cache` is False).

Which key goes where (the user's OpenAI key never travels to someone else's server):

- OpenAI's own endpoint (no base URL): `settings.api_key` (`OPENAI_API_KEY`).
- Any other base URL: `LONGDOC_API_KEY` if set; else `settings.api_key` only if it was
  given for this endpoint: passed explicitly (it differs from `OPENAI_API_KEY`), or
  `OPENAI_API_KEY` with the endpoint also taken from `OPENAI_BASE_URL` (the pair the
  openai client itself would use); else no key.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

from ..config import FAKE_MODEL, LOCAL_INSTRUCT_MODEL, LOCAL_MODEL, Settings
from ..errors import ConfigError
from .base import Model
from .call_log import CallLog
from .catalog import REASONING_ALLOWANCE, is_reasoning_model
from .fake import FakeModel
from .identity import endpoint_identity
from .limits import BoundedModel, endpoint_limit
from .local import LocalModel
from .local_instruct import LocalInstructModel
from .openai_backend import OpenAIModel, is_openai_endpoint
from .profiles import ModelProfile, default_profile, profile_named
from .response_cache import CachedModel

FAKE_WINDOW = 8192

LOCAL_MAX_RETRIES = 1

_logs: dict[Path, CallLog] = {}
_logs_lock = threading.Lock()


def call_log(cache_dir: Path) -> CallLog:
    """The process's `CallLog` for `cache_dir` (opened once)."""
    path = Path(cache_dir).resolve()
    with _logs_lock:
        log = _logs.get(path)
        if log is None:
            log = _logs[path] = CallLog.in_dir(path)
        return log


def api_key_for(settings: Settings) -> str | None:
    """The key to send to `settings.base_url`, by the rules in this module's docstring."""
    key = settings.api_key.get_secret_value() if settings.api_key else None
    if is_openai_endpoint(settings.base_url):
        return key
    endpoint_key = os.environ.get("LONGDOC_API_KEY")
    if endpoint_key:
        return endpoint_key
    if key is None:
        return None
    if key != os.environ.get("OPENAI_API_KEY"):
        return key
    if settings.base_url and settings.base_url == os.environ.get("OPENAI_BASE_URL"):
        return key
    return None


def resolved_profile(settings: Settings, *, completion_style: bool) -> ModelProfile:
    """The profile for a backend whose own rendering is `completion_style`: the one named
    in `settings`, else the one that rendering implies. An explicit
    `completion_style` keeps its rendering under either profile."""
    if settings.profile is None:
        return default_profile(completion_style)
    profile = profile_named(settings.profile)
    if settings.completion_style is not None and settings.completion_style != profile.completion_style:
        profile = profile.model_copy(update={"completion_style": settings.completion_style})
    return profile


def backend_for(settings: Settings) -> Model:
    """The bare backend, without limit or cache."""
    if settings.model == FAKE_MODEL:
        profile = resolved_profile(settings, completion_style=True)
        return FakeModel(
            context_window=settings.window or FAKE_WINDOW,
            completion_style=profile.completion_style,
            profile=profile,
        )
    if settings.model in (LOCAL_MODEL, LOCAL_INSTRUCT_MODEL):
        embedded = LocalModel if settings.model == LOCAL_MODEL else LocalInstructModel
        return embedded(
            profile=resolved_profile(settings, completion_style=settings.model == LOCAL_MODEL),
            cache_dir=settings.cache_dir,
            window=settings.window,
            timeout=settings.timeout,
            # in-process server: no rate limits or flaky network to wait out, and a
            # timed-out prompt would only time out again
            max_retries=min(settings.max_retries, LOCAL_MAX_RETRIES),
        )
    key = api_key_for(settings)
    if settings.base_url is None and key is None:
        raise ConfigError(
            f"model {settings.model or '(default)'!r} needs an endpoint: set OPENAI_API_KEY for "
            "OpenAI, or --base-url (OPENAI_BASE_URL) for another server, or use --model local"
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


def load_model(settings: Settings) -> Model:
    """The model `settings` describe, with bounded concurrency, cache and call log."""
    backend = backend_for(settings)
    endpoint = endpoint_identity(backend)
    bounded = BoundedModel(backend, endpoint_limit(endpoint, settings.concurrency))
    return CachedModel(bounded, call_log(settings.cache_dir), read=settings.cache, endpoint=endpoint)


def endpoint_urls(settings: Settings) -> list[str]:
    """The base URLs of `settings.base_url`, which may list several, comma-separated."""
    return [url.strip() for url in (settings.base_url or "").split(",") if url.strip()]


def load_endpoints(settings: Settings) -> Model:
    """`load_model`, where `settings.base_url` may name several endpoints serving the same
    model (comma-separated): they are used in turn, each with its own limit and retries."""
    from .round_robin import RoundRobinModel

    urls = endpoint_urls(settings)
    if len(urls) > 1:
        return RoundRobinModel([load_model(settings.model_copy(update={"base_url": url})) for url in urls])
    return load_model(settings.model_copy(update={"base_url": urls[0]}) if urls else settings)
