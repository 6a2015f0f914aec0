"""Model backends behind one protocol: openai-compatible endpoints, the embedded local model, a fake."""

from .base import Completion, CompletionRequest, Message, Model, RunUsage, TokenLogprob, Usage
from .fake import FakeModel

__all__ = [
    "Completion",
    "CompletionRequest",
    "FakeModel",
    "Message",
    "Model",
    "RunUsage",
    "TokenLogprob",
    "Usage",
]
