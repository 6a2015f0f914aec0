"""What every OpenAI-compatible client of this process shares: one TLS context, one pool of
threads for async calls, and a count of the HTTP attempts each call made (retries included)."""

from __future__ import annotations

import contextvars
import ssl
import sys
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

import openai

_attempts: contextvars.ContextVar[list[int] | None] = contextvars.ContextVar(
    "longdoc_openai_attempts", default=None
)


def _count_attempt(_request: object) -> None:
    box = _attempts.get()
    if box is not None:
        box[0] += 1


@contextmanager
def counted_attempts() -> Iterator[list[int]]:
    """A one-item list holding the number of HTTP requests sent by the client calls made
    inside the block (the first try and every retry), counted by the client's event hook."""
    box = [0]
    token = _attempts.set(box)
    try:
        yield box
    finally:
        _attempts.reset(token)


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


def call_threads() -> ThreadPoolExecutor:
    """The worker threads async calls run their sync client calls in (started on first use)."""
    global _threads
    with _threads_lock:
        if _threads is None:
            _threads = ThreadPoolExecutor(max_workers=CALL_THREADS, thread_name_prefix="longdoc-call")
        return _threads



def _tls_option() -> dict[str, Any]:
    context = shared_tls_context()
    return {} if context is None else {"verify": context}


def new_client(*, api_key: str, base_url: str | None, timeout: float, max_retries: int) -> openai.OpenAI:
    """A sync client on the shared TLS context whose requests `counted_attempts` counts."""
    return openai.OpenAI(
        api_key=api_key,
        base_url=base_url,
        timeout=timeout,
        max_retries=max_retries,
        http_client=openai.DefaultHttpxClient(
            event_hooks={"request": [_count_attempt]},
            **_tls_option(),
        ),
    )
