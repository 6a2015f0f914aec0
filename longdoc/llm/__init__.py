"""Model backends behind one protocol: openai-compatible endpoints, the embedded local model, a fake.

`load_model` builds the backend registered under the model's name (`registry`; installed
packages may register more) and wraps it in a concurrency limit, the response cache and the
call log.

Names load on first use (PEP 562), so `from longdoc.llm.base import Model` does not import
the openai client or the embedded model's runtime.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..lazy_exports import lazy_exports

_PUBLIC: dict[str, str] = {
    "BoundedModel": ".limits",
    "CachedModel": ".response_cache",
    "CallLog": ".call_log",
    "CallRecord": ".call_log",
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


__getattr__, __dir__ = lazy_exports(__name__, _PUBLIC)


if TYPE_CHECKING:
    from .base import Completion, CompletionRequest, Message, Model, RunUsage, TokenLogprob, Usage
    from .call_log import CallLog, CallRecord
    from .factory import load_model
    from .fake import FakeModel
    from .limits import BoundedModel, ConcurrencyLimit
    from .local import LocalModel
    from .local_instruct import LocalInstructModel
    from .openai_backend import OpenAIModel
    from .response_cache import CachedModel
