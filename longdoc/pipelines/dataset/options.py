"""How a dataset run generates and filters rows: its options and their defaults.

Kept apart from `generate` so that the command line can show the defaults in
`--help` without importing the pipeline (langgraph, the checkpointer).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from ...agents.plan import SECTION_WORDS

MAX_REPETITION = 0.25
"""Share of repeated word 4-grams above which a row is rejected as repetitive; fluent
English prose of a few thousand words stays well under 0.1."""


class DatasetOptions(BaseModel):
    """How rows are generated and filtered."""

    model_config = ConfigDict(frozen=True)

    concurrency: int = Field(default=4, ge=1)
    with_meta: bool = False
    min_length_score: float = Field(default=0.0, ge=0, le=100)
    max_repetition: float = Field(default=MAX_REPETITION, gt=0, le=1)
    section_words: int = Field(default=SECTION_WORDS, ge=1)
    window: int | None = None
    processes: int | None = Field(default=None, ge=1)
    """Worker processes the prompts are spread over; None = automatic (see
    `workers.process_count`): more than one only for a remote endpoint at a
    concurrency one process cannot keep busy, and only when `generate_dataset` is given the
    settings to rebuild the model from."""
    ray: str | None = None
    """Write on a Ray cluster (`ray_actors`): "local" starts a Ray runtime on this machine,
    "auto" or "ray://host:port" joins a cluster; None (the default) never imports Ray."""
