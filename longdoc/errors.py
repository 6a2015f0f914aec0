"""The one exception tree of longdoc; callers may catch at any level.

    LongdocError                      shown to the user with its message; exit code 1
    ├── ConfigError                   bad settings: unknown model spec, bad window, bad flags (.setting, .value)
    │   └── InvalidValue              an argument out of range (.setting, .value); also a ValueError
    ├── SourceError                   a file or directory cannot be read as a document (carries .path)
    │   └── InputFormatError          a line or record of an input file is malformed (.path, .line)
    ├── TokenizerError                the offline tokenizer data is missing or corrupt
    ├── SplitError                    a text cannot be split within the limit (.limit, .tokens)
    ├── ModelError                    a model call failed for good (.status, .attempts, .model)
    │   ├── ModelUnavailable          the backend cannot be reached or started
    │   ├── ContextLengthExceeded     the prompt does not fit the model's window (.prompt_tokens, .window)
    │   ├── EmptyResponse             the model returned no text after its retries (.finish_reason)
    │   ├── OutputLimitReached        the reply was all spent before any answer (reasoning) (.max_tokens)
    │   └── LogprobsUnsupported       the backend returns no token logprobs
    └── PipelineError                 a pipeline could not produce a valid result (.stage)
        └── PlanError                 a writing plan (from a checkpoint) does not validate (.stage)

Every exception carries its context as attributes, never only in the message,
so that pipelines can react (re-split on ContextLengthExceeded, for example).
"""

from __future__ import annotations

from pathlib import Path


class LongdocError(Exception):
    """Base of every error longdoc raises on purpose; its message is meant for the user."""


class ConfigError(LongdocError):
    """Settings that cannot work together, or an unknown model specification; `.setting`
    names the setting or argument and `.value` holds the value refused, when there is one."""

    def __init__(self, message: str, *, setting: str | None = None, value: object = None) -> None:
        self.setting = setting
        self.value = value
        super().__init__(message)


class InvalidValue(ConfigError, ValueError):
    """An argument whose value cannot work: a concurrency below 1, a non-positive target, a
    non-loopback host (`.setting`, `.value`). Also a ValueError, which is what such checks
    raised before it."""


class SourceError(LongdocError):
    """A path cannot be loaded as a document."""

    def __init__(self, message: str, *, path: str | Path | None = None) -> None:
        self.path = str(path) if path is not None else None
        super().__init__(f"{self.path}: {message}" if self.path else message)


class InputFormatError(SourceError):
    """One line or record of an input file is malformed."""

    def __init__(self, message: str, *, path: str | Path | None = None, line: int | None = None) -> None:
        self.line = line
        where = f"line {line}: " if line is not None else ""
        super().__init__(f"{where}{message}", path=path)


class TokenizerError(LongdocError):
    """The packaged BPE data for an encoding is missing or does not match its checksum."""


class SplitError(LongdocError):
    """A text could not be split within a token limit."""

    def __init__(self, message: str, *, limit: int | None = None, tokens: int | None = None) -> None:
        self.limit = limit
        self.tokens = tokens
        super().__init__(message)


class ModelError(LongdocError):
    """A model call failed after the client's retries; never returned as model output."""

    def __init__(
        self,
        message: str,
        *,
        model: str | None = None,
        status: int | None = None,
        attempts: int | None = None,
    ) -> None:
        self.model = model
        self.status = status
        self.attempts = attempts
        super().__init__(message)


class ModelUnavailable(ModelError):
    """The backend cannot be reached or could not start."""


class ContextLengthExceeded(ModelError):
    """The prompt is longer than the model's context window."""

    def __init__(
        self,
        message: str,
        *,
        model: str | None = None,
        prompt_tokens: int | None = None,
        window: int | None = None,
        status: int | None = 400,
        attempts: int | None = 1,
    ) -> None:
        self.prompt_tokens = prompt_tokens
        self.window = window
        super().__init__(message, model=model, status=status, attempts=attempts)


class EmptyResponse(ModelError):
    """The model returned no usable text."""

    def __init__(self, message: str, *, finish_reason: str | None = None, **context: object) -> None:
        self.finish_reason = finish_reason
        super().__init__(message, **context)  # type: ignore[arg-type]


class OutputLimitReached(ModelError):
    """The output token limit was spent before the model wrote any answer: a reasoning
    model thinking past it. Raise the allowance (`--max-output`), never take evidence
    for its answer."""

    def __init__(self, message: str, *, max_tokens: int | None = None, **context: object) -> None:
        self.max_tokens = max_tokens
        super().__init__(message, **context)  # type: ignore[arg-type]


class LogprobsUnsupported(ModelError):
    """The backend does not return token logprobs (use a scorer that needs none)."""


class PipelineError(LongdocError):
    """A pipeline could not produce a valid result."""

    def __init__(self, message: str, *, stage: str | None = None) -> None:
        self.stage = stage
        super().__init__(message)


class PlanError(PipelineError):
    """A writing plan could not be parsed or repaired."""
