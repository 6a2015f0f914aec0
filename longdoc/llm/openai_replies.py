"""What an OpenAI-compatible endpoint's replies become: a `Completion` (text cut at the stop
sequences, usage, token logprobs in any of the three shapes servers send, cost), or a typed
error when the reply holds no usable text; and the window a server reports for a model."""

from __future__ import annotations

from typing import Any

from ..errors import EmptyResponse, LogprobsUnsupported
from .base import Completion, CompletionRequest, TokenLogprob, Usage
from .catalog import cost_usd


def cut_at_stops(text: str, stops: tuple[str, ...]) -> str:
    """`text` up to the first stop sequence (servers that honour them leave none)."""
    cut = min((text.find(stop) for stop in stops if stop and stop in text), default=-1)
    return text if cut < 0 else text[:cut]


def completion_from(
    request: CompletionRequest,
    response: Any,
    *,
    model: str,
    where: str,
    completion_style: bool,
    price: tuple[float, float] | None,
    latency: float,
    attempts: int,
) -> Completion:
    """The `Completion` in `response`, the parsed JSON body `model` at `where` answered
    `request` with (a `completion_style` reply carries `text`, a chat reply a `message`);
    EmptyResponse or LogprobsUnsupported when it holds no usable answer."""
    choices = response.get("choices") if isinstance(response, dict) else None
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        raise EmptyResponse(f"{model} returned no choices", model=model, status=200, attempts=attempts)
    choice = choices[0]
    if completion_style:
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
            f"{model} returned no text (finish reason {finish_reason!r})",
            model=model,
            status=200,
            attempts=attempts,
            finish_reason=finish_reason if isinstance(finish_reason, str) else None,
        )
    if request.logprobs is not None and not logprobs:
        raise LogprobsUnsupported(
            f"{model} at {where} returned no token logprobs",
            model=model,
            status=200,
            attempts=attempts,
        )
    counts = response.get("usage") if isinstance(response.get("usage"), dict) else {}
    usage = Usage(
        prompt_tokens=_token_count(counts.get("prompt_tokens")),
        completion_tokens=_token_count(counts.get("completion_tokens")),
    )
    served = response.get("model")
    return Completion(
        text=text,
        model=served if isinstance(served, str) and served else model,
        finish_reason=finish_reason if isinstance(finish_reason, str) else None,
        usage=usage,
        logprobs=logprobs,
        latency_s=latency,
        cost_usd=cost_usd(price, usage.prompt_tokens, usage.completion_tokens),
    )


def _token_count(value: Any) -> int:
    """A token count from a reply's usage (absent, null or not a number: 0)."""
    return value if isinstance(value, int) and value > 0 else 0


def reported_window(entry: dict[str, Any]) -> int | None:
    """The window a server reports in `/v1/models`: vLLM's `max_model_len`, llama.cpp's
    `meta.n_ctx`, or a `context_length` field."""
    meta = entry.get("meta") if isinstance(entry.get("meta"), dict) else {}
    for value in (entry.get("max_model_len"), meta.get("n_ctx"), entry.get("context_length")):
        if isinstance(value, int) and value > 0:
            return value
    return None


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
