"""Model backends behind one protocol: openai-compatible endpoints, the embedded local models, a fake."""

from .base import Completion, CompletionRequest, Message, Model, RunUsage, TokenLogprob, Usage
from .cache import CachedModel, CallLog, CallRecord
from .factory import load_model
from .fake import FakeModel
from .limits import BoundedModel, ConcurrencyLimit
from .local import LocalModel
from .local_instruct import LocalInstructModel
from .openai_backend import OpenAIModel

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
