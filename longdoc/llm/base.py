"""The one protocol every model backend speaks, and the values that cross it."""

from __future__ import annotations

from typing import Literal, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field

from .profiles import ModelProfile, profile_of


class Message(BaseModel):
    model_config = ConfigDict(frozen=True)

    role: Literal["system", "user", "assistant"]
    content: str


class CompletionRequest(BaseModel):
    """One model call. `messages` is the chat rendering; `prompt`, when given, is the
    completion-primed rendering of the same request for base models (see prompts/)."""

    model_config = ConfigDict(frozen=True)

    messages: tuple[Message, ...] = ()
    prompt: str | None = None
    max_tokens: int = 512
    temperature: float = 0.0
    stop: tuple[str, ...] = ()
    logprobs: int | None = Field(default=None, ge=0, le=20)
    """Top-k alternatives wanted per generated token; None for no logprobs."""
    json_schema: dict | None = None
    """A JSON schema the reply must follow, for backends that constrain decoding
    (`Model.structured_output`); others are sent the request without it."""
    seed: int | None = None
    """The sampling seed of a call made at a temperature above 0, so that a rerun draws the
    same reply (llama.cpp's server, vLLM and OpenAI take it; others ignore it)."""

    @classmethod
    def from_text(cls, text: str, **params: object) -> CompletionRequest:
        return cls(messages=(Message(role="user", content=text),), prompt=text, **params)


class TokenLogprob(BaseModel):
    model_config = ConfigDict(frozen=True)

    token: str
    logprob: float
    top: tuple[tuple[str, float], ...] = ()
    """The top-k alternatives (token, logprob), most likely first."""


class Usage(BaseModel):
    prompt_tokens: int = 0
    completion_tokens: int = 0


class Completion(BaseModel):
    model_config = ConfigDict(frozen=True)

    text: str
    model: str
    finish_reason: str | None = None
    usage: Usage = Field(default_factory=Usage)
    logprobs: tuple[TokenLogprob, ...] | None = None
    latency_s: float = 0.0
    cached: bool = False
    cost_usd: float | None = None
    """What this call cost where the backend knows a price (hosted models); None otherwise."""


class RunUsage(BaseModel):
    """Usage summed over a run, as reported by every command's `usage`."""

    calls: int = 0
    cached_calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float | None = None

    def add(self, completion: Completion, *, price: tuple[float, float] | None = None) -> None:
        """Count one completion; `price` is USD per million (prompt, completion) tokens,
        else the completion's own `cost_usd` (set by backends that know their price)."""
        self.calls += 1
        if completion.cached:
            self.cached_calls += 1
            return
        self.prompt_tokens += completion.usage.prompt_tokens
        self.completion_tokens += completion.usage.completion_tokens
        cost = completion.cost_usd
        if price is not None:
            cost = (
                completion.usage.prompt_tokens * price[0]
                + completion.usage.completion_tokens * price[1]
            ) / 1e6
        if cost is not None:
            self.cost_usd = (self.cost_usd or 0.0) + cost


@runtime_checkable
class Model(Protocol):
    """A backend. `complete` and `acomplete` raise longdoc.errors.ModelError subclasses on
    failure and never return an error message as text."""

    name: str
    context_window: int
    completion_style: bool
    """True for base models that must be prompted with the completion rendering."""

    # A backend may also carry `profile: ModelProfile` (see llm.profiles); one that does
    # not gets the profile its rendering implies (`profile_of`). One whose decoding follows
    # a request's `json_schema` says so with `structured_output = True`.

    def complete(self, request: CompletionRequest) -> Completion: ...

    async def acomplete(self, request: CompletionRequest) -> Completion: ...


def supports_schema(model: object) -> bool:
    """Whether `model` constrains its replies to a request's JSON schema."""
    return bool(getattr(model, "structured_output", False))


class ModelWrapper:
    """Base of the layers around a backend (limit, cache). A wrapped model offers what the
    `Model` protocol names, the optional `profile` and `structured_output`, and the few
    backend extras callers read through the layers, each declared here; any other
    attribute of the backend is reached through `inner`, never passed through."""

    def __init__(self, inner: Model) -> None:
        self.inner = inner

    @property
    def name(self) -> str:
        return self.inner.name

    @property
    def context_window(self) -> int:
        return self.inner.context_window

    @property
    def completion_style(self) -> bool:
        return self.inner.completion_style

    @property
    def profile(self) -> ModelProfile:
        return profile_of(self.inner)

    @property
    def structured_output(self) -> bool:
        return supports_schema(self.inner)

    @property
    def cache_identity(self) -> str | None:
        """The backend's `cache_identity` (what makes its answers its own), None where it
        declares none (see `identity.endpoint_identity`)."""
        identity = getattr(self.inner, "cache_identity", None)
        return identity if isinstance(identity, str) else None

    @property
    def endpoint_url(self) -> str:
        """An embedded backend's server URL (`EmbeddedModel.endpoint_url`, which starts it);
        AttributeError for other backends."""
        return self.inner.endpoint_url  # type: ignore[attr-defined]

    @property
    def history(self) -> list[CompletionRequest]:
        """The requests a scripted backend recorded (`FakeModel.history`); AttributeError
        for backends that keep none."""
        return self.inner.history  # type: ignore[attr-defined]
