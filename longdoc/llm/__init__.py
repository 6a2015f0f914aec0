"""Model backends behind one protocol: openai-compatible endpoints, the embedded local model, a fake.

Names load on first use (PEP 562), so `from longdoc.llm.base import Model` does not import
the openai client or the embedded model's runtime.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_PUBLIC: dict[str, str] = {
    "BoundedModel": ".limits",
    "CachedModel": ".cache",
    "CallLog": ".cache",
    "CallRecord": ".cache",
    "Completion": ".base",
    "CompletionRequest": ".base",
    "ConcurrencyLimit": ".limits",
    "FakeModel": ".fake",
    "LocalInstructModel": ".local_instruct",
    "LocalModel": ".local",
    "Message": ".base",
    "Model": ".base",
    "OpenAIModel": ".openai_backend",
    "RunUsage": ".base",
    "TokenLogprob": ".base",
    "Usage": ".base",
    "load_model": ".factory",
}
"""Each public name and the module that defines it."""

__all__ = [
    "BoundedModel",
    "CachedModel",
    "CallLog",
    "CallRecord",
    "Completion",
    "CompletionRequest",
    "ConcurrencyLimit",
    "FakeModel",
    "LocalInstructModel",
    "LocalModel",
    "Message",
    "Model",
    "OpenAIModel",
    "RunUsage",
    "TokenLogprob",
    "Usage",
    "load_model",
]


def __getattr__(name: str) -> Any:
    module = _PUBLIC.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


if TYPE_CHECKING:
    from .base import Completion, CompletionRequest, Message, Model, RunUsage, TokenLogprob, Usage
    from .cache import CachedModel, CallLog, CallRecord
    from .factory import load_model
    from .fake import FakeModel
    from .limits import BoundedModel, ConcurrencyLimit
    from .local import LocalModel
    from .openai_backend import OpenAIModel
