"""What the reading pipelines return: an answer with its evidence, usage and timings."""

from __future__ import annotations

from pydantic import BaseModel, Field

from .llm.base import RunUsage


class Citation(BaseModel):
    """Where a piece of evidence came from: a span of a source, with its lines."""

    source: str
    start: int
    end: int
    lines: tuple[int, int]
    section: str | None = None
    """The chapter or enclosing symbol, where known."""


class EvidenceQuote(BaseModel):
    """A sentence of the source, verbatim, that the answer rests on, with where it stands."""

    text: str
    source: str
    start: int
    end: int
    lines: tuple[int, int]
    section: str | None = None


class SegmentScore(BaseModel):
    """One segment of the XL3M selection: its span, relevance score and whether it was kept."""

    source: str
    start: int
    end: int
    score: float
    selected: bool


class AnswerResult(BaseModel):
    """The result of `ask` and `summarize`, in every strategy (the CLI's --json contract)."""

    answer: str
    strategy: str
    chunks: int
    citations: list[Citation] = Field(default_factory=list)
    usage: RunUsage = Field(default_factory=RunUsage)
    timings: dict[str, float] = Field(default_factory=dict)
    notes: list[str] = Field(default_factory=list)
    """The notes trail: what each worker (or group) passed on, in order."""
    segments: list[SegmentScore] | None = None
    profile: str = "base"
    """The model profile the run used (`base` or `instruct`; see llm.profiles)."""
    grounded: bool | None = None
    """Whether the model's answer keeps to what it was given (its numbers and most of its
    words occur in the notes or key context); None when there was no model answer to check."""
    fallback: bool = False
    """True only when the model's answer was replaced: on the `base` profile by the notes'
    evidence when it was empty or unsupported; on any profile when the model wrote nothing."""
    raw_answer: str | None = None
    """The model's reply as the call log recorded it, before any cleaning."""
    evidence: list[EvidenceQuote] = Field(default_factory=list)
    """The best evidence found for a question, verbatim with its citation (best first)."""
