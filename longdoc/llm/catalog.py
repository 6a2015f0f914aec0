"""What longdoc knows about models without asking: context windows and prices (hosted and embedded)."""

from __future__ import annotations

DEFAULT_HOSTED_MODEL = "gpt-4o-mini"
"""Used on OpenAI's own endpoint when no model is named: cheap, 128k window."""

UNKNOWN_WINDOW = 8192
"""Assumed for a model that neither this table nor its server describes; small enough
to fit nearly every model served today, so chunks are never too long for it."""

CONTEXT_WINDOWS: dict[str, int] = {
    "gpt-4.1": 1_047_576,
    "gpt-4.1-mini": 1_047_576,
    "gpt-4.1-nano": 1_047_576,
    "gpt-4o": 128_000,
    "gpt-4o-mini": 128_000,
    "gpt-4-turbo": 128_000,
    "gpt-4": 8_192,
    "gpt-3.5-turbo": 16_385,
    "o1": 200_000,
    "o1-mini": 128_000,
    "o3": 200_000,
    "o3-mini": 200_000,
    "o4-mini": 200_000,
}
"""Context windows (prompt + output tokens) of common hosted models, by name prefix."""

PRICES_PER_MILLION: dict[str, tuple[float, float]] = {
    "gpt-4.1": (2.00, 8.00),
    "gpt-4.1-mini": (0.40, 1.60),
    "gpt-4.1-nano": (0.10, 0.40),
    "gpt-4o": (2.50, 10.00),
    "gpt-4o-mini": (0.15, 0.60),
    "gpt-4-turbo": (10.00, 30.00),
    "gpt-3.5-turbo": (0.50, 1.50),
    "o1": (15.00, 60.00),
    "o3": (2.00, 8.00),
    "o3-mini": (1.10, 4.40),
    "o4-mini": (1.10, 4.40),
}
"""USD per million (prompt, completion) tokens on OpenAI's own endpoint, by name prefix."""

EMBEDDED_WINDOWS: dict[str, tuple[int, int]] = {
    "local": (8192, 32768),
    "local-instruct": (8192, 32768),
}
"""Embedded models (by `--model` name): tokens per request served by default, and the
trained context (the largest `--window` that can be served). Both were trained to 32k, but
on two CPU cores an 8k prompt already takes half a minute (local) to a minute
(local-instruct) to read: chunking beats longer prompts there. Embedded models have no
price."""


def _longest_prefix(table: dict[str, object], model: str) -> str | None:
    """The table key that `model` starts with, longest first: `gpt-4o-mini-2024-07-18`
    matches `gpt-4o-mini`, not `gpt-4o` nor `gpt-4`."""
    name = model.rsplit("/", 1)[-1].lower()
    matches = [key for key in table if name == key or name.startswith(key + "-")]
    return max(matches, key=len) if matches else None


def known_window(model: str) -> int | None:
    key = _longest_prefix(CONTEXT_WINDOWS, model)
    return CONTEXT_WINDOWS[key] if key else None


def known_price(model: str) -> tuple[float, float] | None:
    key = _longest_prefix(PRICES_PER_MILLION, model)
    return PRICES_PER_MILLION[key] if key else None


def cost_usd(price: tuple[float, float] | None, prompt_tokens: int, completion_tokens: int) -> float | None:
    if price is None:
        return None
    return (prompt_tokens * price[0] + completion_tokens * price[1]) / 1e6


REASONING_PREFIXES = ("o1", "o3", "o4", "gpt-5", "deepseek-r1", "qwq", "qwen3")
"""Model names (or their last path part, as vLLM and Ollama serve them) of models that
think before they answer: OpenAI's o-series and gpt-5, DeepSeek-R1 and its distills, QwQ,
Qwen3 (whose `<think>` is on by default)."""

REASONING_ALLOWANCE = 4096
"""Output tokens reserved for a reasoning model's thinking on top of each answer: enough
for most questions at low or medium effort; `--max-output` sets another."""


def is_reasoning_model(model: str) -> bool:
    name = model.lower().rsplit("/", 1)[-1]
    return name.startswith(REASONING_PREFIXES) or "-r1" in name
