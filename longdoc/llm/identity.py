"""What makes a model's answers its own: the endpoint identity that keys cached answers and
concurrency limits, and the model identity that keys a run's checkpoints."""

from __future__ import annotations

from .base import Model
from .profiles import profile_of


def endpoint_identity(model: Model) -> str:
    """What makes a backend's answers its own: `cache_identity` where the backend has one."""
    identity = getattr(model, "cache_identity", None)
    return identity if isinstance(identity, str) else f"{type(model).__name__}:{model.name}"


def model_identity(model: Model) -> str:
    """What a checkpoint of a run on `model` is keyed by: the endpoint, the model name, its
    rendering and its profile, so the same name on another server or profile starts afresh."""
    style = "completion" if model.completion_style else "chat"
    return f"{endpoint_identity(model)}|{model.name}|{style}|{profile_of(model).name}"
