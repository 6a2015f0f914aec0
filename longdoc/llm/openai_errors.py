"""What an OpenAI-compatible endpoint's failures become: typed `ModelError`s carrying the
HTTP status, the number of attempts and, for an over-long prompt, the numbers the server gave.

Nothing the server says in an error ever comes back as completion text.
"""

from __future__ import annotations

import re

import openai

from ..errors import ContextLengthExceeded, ModelError, ModelUnavailable

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


def typed_error(
    exc: openai.APIError, *, model: str, where: str, timeout: float, attempts: int, doing: str = "completion"
) -> ModelError:
    """The `ModelError` for `exc`, raised by the client for `model` at `where` while `doing`
    something, after `attempts` HTTP requests."""
    attempts = max(attempts, 1)
    if isinstance(exc, openai.APITimeoutError):
        return ModelError(
            f"{model} at {where}: {doing} timed out after {timeout:g}s, {attempts} attempts",
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

