"""Model profiles: what the pipeline does around a model, decided once from what it can do.

A small base model (the embedded Gemma 3 270M, or any base model served through a
completions endpoint) needs completion-primed prompts, stop sequences, echo cutting, loop
repair, openers that restart a stalled writer, and answers checked against the notes and
replaced by evidence when they are not supported. A capable chat model needs none of that:
its text is the answer. Agents read `profile_of(model)` and never a model's name.

| | `base` | `instruct` |
|---|---|---|
| rendering | completion-primed text | chat messages |
| stop sequences | the templates' base-model stops | none but a caller's own |
| cleaning | echo cutting, cue stripping, loop repair | whitespace, `<think>` blocks, token cap |
| grounding | enforced (`fallback`), and reported | reported (`grounded`), never imposed |
| writer | openers restart a stalled model | the model's paragraphs as written |

`--profile` / `LONGDOC_PROFILE` / `Settings.profile` override the default, which is `base`
for completion-style backends and `instruct` for chat ones.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict

from ..errors import ConfigError

if TYPE_CHECKING:
    from ..config import Settings

ProfileName = Literal["base", "instruct"]


class ModelProfile(BaseModel):
    """How agents treat one model's requests and replies."""

    model_config = ConfigDict(frozen=True)

    name: ProfileName
    completion_style: bool
    """Send the completion-primed rendering (base models) instead of chat messages."""
    base_stops: bool
    """Send the prompt templates' stop sequences (blank line, `Question:`...): a base model
    runs on into the next block of the prompt without them; a chat model's list or
    paragraphs would be cut by them."""
    repair_output: bool
    """Clean a reply as a base model's: cut echoed prompt lines and cue words, repair
    loops, rejoin hard-wrapped lines. Off: only surrounding whitespace, a `<think>` block
    and the output token cap."""
    enforce_grounding: bool
    """Replace an answer the notes do not support by the notes' evidence (`fallback`).
    Off: grounding is measured and reported (`grounded`), the answer stays the model's."""
    writer_openers: bool
    """Restart a writer that added nothing with an injected paragraph opener."""
    structured_plans: bool = False
    """Ask for writing plans as JSON under a schema where the backend constrains decoding
    (`Model.structured_output`); the prose plan parser stays the fallback."""
    reasoning_tokens: int = 0
    """Output tokens reserved on top of each answer for a reasoning model's thinking."""


BASE = ModelProfile(
    name="base",
    completion_style=True,
    base_stops=True,
    repair_output=True,
    enforce_grounding=True,
    writer_openers=True,
)

INSTRUCT = ModelProfile(
    name="instruct",
    completion_style=False,
    base_stops=False,
    repair_output=False,
    enforce_grounding=False,
    writer_openers=False,
    structured_plans=True,
)

PROFILES: dict[str, ModelProfile] = {"base": BASE, "instruct": INSTRUCT}


def profile_named(name: str) -> ModelProfile:
    """The built-in profile `name`; ConfigError naming the choices otherwise."""
    try:
        return PROFILES[name.strip().lower()]
    except KeyError:
        raise ConfigError(
            f"unknown profile {name!r}; choose one of {', '.join(PROFILES)}"
        ) from None


def default_profile(completion_style: bool) -> ModelProfile:
    return BASE if completion_style else INSTRUCT


def profile_of(model: object) -> ModelProfile:
    """The profile a model carries; for a model object that declares none (a user's own
    `Model`), the one its rendering implies."""
    profile = getattr(model, "profile", None)
    if isinstance(profile, ModelProfile):
        return profile
    return default_profile(bool(getattr(model, "completion_style", False)))


def resolved_profile(settings: Settings, *, completion_style: bool) -> ModelProfile:
    """The profile for a backend whose own rendering is `completion_style`: the one named
    in `settings`, else the one that rendering implies. An explicit
    `completion_style` keeps its rendering under either profile."""
    if settings.profile is None:
        return default_profile(completion_style)
    profile = profile_named(settings.profile)
    if settings.completion_style is not None and settings.completion_style != profile.completion_style:
        profile = profile.model_copy(update={"completion_style": settings.completion_style})
    return profile
