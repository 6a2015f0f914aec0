"""`load_model(settings)`: the configured backend, bounded and cached, ready to call.

Which backend: the one registered under `settings.model` (`fake`, `local`, `local-instruct`,
or a plugin's: see `registry`), else the `openai` backend, for which the model name is a
model at an OpenAI-compatible endpoint (None: the endpoint's own, or OpenAI's default).
Every backend is wrapped the same way: a per-endpoint concurrency limit
(`settings.concurrency`), then the SQLite cache and call log in `settings.cache_dir` (read
unless `settings.cache` is False).
"""

from __future__ import annotations

import threading
from pathlib import Path

from ..config import Settings
from ..errors import ConfigError
from .base import Model
from .call_log import CallLog
from .identity import endpoint_identity
from .limits import BoundedModel, endpoint_limit
from .registry import backend_registry
from .response_cache import CachedModel

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


def backend_for(settings: Settings) -> Model:
    """The bare backend, without limit or cache. A model name no backend registered goes to
    an OpenAI-compatible endpoint; with none set, the error lists the registered backends."""
    registry = backend_registry()
    try:
        return registry.for_model(settings.model).build(settings)
    except ConfigError as exc:
        if exc.setting != "endpoint" or not settings.model or settings.model in registry:
            raise
        names = ", ".join(registry.names())
        raise ConfigError(
            f"{exc} ({settings.model!r} is no registered backend: {names})",
            setting="endpoint",
            value=settings.model,
        ) from exc


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
