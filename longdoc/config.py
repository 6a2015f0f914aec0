"""Settings shared by the API and the CLI: which model, where, with what budgets and cache."""

from __future__ import annotations

import os
from pathlib import Path

from platformdirs import user_cache_dir
from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from .errors import ConfigError

LOCAL_MODEL = "local"
"""The embedded model, used when no endpoint and no key is configured."""

LOCAL_INSTRUCT_MODEL = "local-instruct"
"""The embedded instruction-tuned chat model (the optional `instruct` extra)."""

EMBEDDED_MODELS = (LOCAL_MODEL, LOCAL_INSTRUCT_MODEL)
"""Models run in this process by llama.cpp, not reached over a network."""

FAKE_MODEL = "fake"

DEFAULT_SCORER = "fusion=lexical+dense"
"""The xl3m segment scorer when none is named (`longdoc.retrieval.scorers`): BM25 and the
sentence encoder fused by rank, no model call; chosen by the needle suite and the held-out
Natural Questions set, see README (Segment relevance) and benchmarks/RESULTS.md
(needle-suite-encoder, selection-nq)."""

DEFAULT_CONCURRENCY = 4
"""Enough to keep a local server busy; hosted endpoints usually allow more (raise with --concurrency)."""

MIN_WINDOW = 512
"""Below this no worker prompt fits its instruction, notes and output reserve."""


def default_cache_dir() -> Path:
    return Path(os.environ.get("LONGDOC_CACHE_DIR") or user_cache_dir("longdoc"))


class Settings(BaseModel):
    """What every command and API call needs to reach a model."""

    model_config = ConfigDict(frozen=True)

    model: str | None = None
    """None = automatic: `local` with no endpoint and no key, else resolved by the backend."""
    base_url: str | None = None
    api_key: SecretStr | None = Field(default=None, repr=False, exclude=True)
    window: int | None = None
    concurrency: int = DEFAULT_CONCURRENCY
    cache: bool = True
    cache_dir: Path = Field(default_factory=default_cache_dir)
    timeout: float = 600.0
    max_retries: int = 4
    completion_style: bool | None = None
    """Prompt an `openai` endpoint through its completions endpoint with the base-model
    rendering (for base models served by vLLM, SGLang, llama.cpp); None/False = chat.
    The embedded models use their own (`local`: completion, `local-instruct`: chat) unless
    `profile` says otherwise. Env: LONGDOC_COMPLETION_STYLE=1."""
    max_output: int | None = Field(default=None, ge=0)
    """Output tokens every call may spend thinking before its answer (reasoning models);
    None = 4,096 for known reasoning models, 0 for others. Env: LONGDOC_MAX_OUTPUT."""
    profile: str | None = None
    """`base` or `instruct` (see llm.profiles); None = the backend's own: `base` for the
    embedded base model and completion-style endpoints, `instruct` for chat endpoints.
    Env: LONGDOC_PROFILE."""

    @field_validator("window")
    @classmethod
    def _window_fits(cls, value: int | None) -> int | None:
        if value is not None and value < MIN_WINDOW:
            raise ValueError(f"window must be at least {MIN_WINDOW} tokens, got {value}")
        return value

    @field_validator("profile")
    @classmethod
    def _known_profile(cls, value: str | None) -> str | None:
        if value is None:
            return None
        name = value.strip().lower()
        if name not in ("base", "instruct"):
            raise ValueError(f"unknown profile {value!r}; choose base or instruct")
        return name

    @field_validator("concurrency")
    @classmethod
    def _concurrency_positive(cls, value: int) -> int:
        if value < 1:
            raise ValueError(f"concurrency must be at least 1, got {value}")
        return value

    @classmethod
    def from_env(cls, **overrides: object) -> Settings:
        """Settings from the environment (LONGDOC_MODEL, OPENAI_BASE_URL, OPENAI_API_KEY,
        LONGDOC_CACHE_DIR, LONGDOC_PROFILE, LONGDOC_COMPLETION_STYLE), then explicit overrides; None overrides are ignored.

        With no model named and no endpoint or key configured, the model is `local`; with an
        endpoint or key it stays None and the openai backend resolves it (the server's only
        model, or a default hosted model).
        """
        values: dict[str, object] = {}
        env_model = os.environ.get("LONGDOC_MODEL")
        env_base = os.environ.get("OPENAI_BASE_URL")
        env_key = os.environ.get("OPENAI_API_KEY")
        if env_base:
            values["base_url"] = env_base
        if env_key:
            values["api_key"] = SecretStr(env_key)
        if env_model:
            values["model"] = env_model
        if os.environ.get("LONGDOC_COMPLETION_STYLE", "").strip().lower() in ("1", "true", "yes"):
            values["completion_style"] = True
        if os.environ.get("LONGDOC_MAX_OUTPUT", "").strip():
            values["max_output"] = os.environ["LONGDOC_MAX_OUTPUT"].strip()
        if os.environ.get("LONGDOC_PROFILE", "").strip():
            values["profile"] = os.environ["LONGDOC_PROFILE"]
        values.update({k: v for k, v in overrides.items() if v is not None})
        if "model" not in values and "base_url" not in values and "api_key" not in values:
            values["model"] = LOCAL_MODEL
        try:
            return cls(**values)
        except ValueError as exc:
            raise ConfigError(str(exc)) from exc

    @property
    def is_local(self) -> bool:
        """The model is an embedded one (`local` or `local-instruct`)."""
        return self.model in EMBEDDED_MODELS
