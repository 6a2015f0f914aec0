"""Where an OpenAI-compatible backend connects, and which key it may send there.

Which key goes where (the user's OpenAI key never travels to someone else's server):

- OpenAI's own endpoint (no base URL): `settings.api_key` (`OPENAI_API_KEY`).
- Any other base URL: `LONGDOC_API_KEY` if set; else `settings.api_key` only if it was
  given for this endpoint: passed explicitly (it differs from `OPENAI_API_KEY`), or
  `OPENAI_API_KEY` with the endpoint also taken from `OPENAI_BASE_URL` (the pair the
  openai client itself would use); else no key.
"""

from __future__ import annotations

import os
from urllib.parse import urlsplit, urlunsplit

from ..config import Settings

OPENAI_HOST = "api.openai.com"

NO_KEY = "no-key"
"""Sent as the bearer token to endpoints that need none (the client insists on one)."""


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
