"""XL3M selection: segment the input, score each segment against the question, and keep
the most relevant ones, in their original order, as a short key context."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from ..documents import Chunk, Document
from ..errors import ConfigError, InvalidValue
from ..llm.base import RunUsage
from ..results import SegmentScore
from ..splitters.segments import (
    DEFAULT_QUESTION_TOKENS,
    DEFAULT_SEGMENT_TOKENS,
    split_segments,
    trailing_question,
)
from .scorers import SegmentScorer

CONTEXT_SEPARATOR = "\n[...]\n"
"""Placed between selected spans that were not adjacent in the input."""


def select_segments(
    segments: Sequence[Chunk], scores: Sequence[float], *, budget: int, lower_is_better: bool
) -> list[bool]:
    """The best-scoring segments whose tokens together fit `budget` (ties go to the earlier
    segment; a segment that does not fit is skipped for smaller ones after it)."""
    if len(segments) != len(scores):
        raise InvalidValue(
            f"one score per segment is needed: {len(scores)} scores for {len(segments)} segments",
            setting="scores",
            value=len(scores),
        )
    sign = 1.0 if lower_is_better else -1.0
    order = sorted(range(len(segments)), key=lambda i: (sign * scores[i], i))
    chosen = [False] * len(segments)
    used = 0
    for i in order:
        if used + segments[i].tokens <= budget:
            chosen[i] = True
            used += segments[i].tokens
    return chosen


def splice(documents: Sequence[Document], segments: Sequence[Chunk], selected: Sequence[bool]) -> str:
    """The selected spans in original order (documents in the given order), overlapping or
    touching spans merged, gaps marked with CONTEXT_SEPARATOR."""
    texts = {d.id: d.text for d in documents}
    parts: list[str] = []
    for doc in documents:
        spans = sorted(
            (s.start, s.end) for s, keep in zip(segments, selected, strict=True) if keep and s.doc_id == doc.id
        )
        merged: list[list[int]] = []
        for start, end in spans:
            if merged and start <= merged[-1][1] + 1:
                merged[-1][1] = max(merged[-1][1], end)
            else:
                merged.append([start, end])
        parts.extend(texts[doc.id][s:e] for s, e in merged)
    return CONTEXT_SEPARATOR.join(parts)


@dataclass
class Selection:
    """The outcome of XL3M selection: every segment, its score, what was kept."""

    question: str
    scorer: str
    lower_is_better: bool
    budget: int
    segments: list[Chunk]
    scores: list[float]
    selected: list[bool]
    context: str
    usage: RunUsage = field(default_factory=RunUsage)

    @property
    def selected_tokens(self) -> int:
        return sum(s.tokens for s, keep in zip(self.segments, self.selected, strict=True) if keep)

    def segment_scores(self) -> list[SegmentScore]:
        return [
            SegmentScore(source=s.source, start=s.start, end=s.end, score=round(score, 6), selected=keep)
            for s, score, keep in zip(self.segments, self.scores, self.selected, strict=True)
        ]


async def aselect_key_context(
    documents: Sequence[Document],
    question: str | None,
    scorer: SegmentScorer,
    *,
    budget: int,
    segment_tokens: int = DEFAULT_SEGMENT_TOKENS,
    overlap: int | None = None,
    question_tokens: int = DEFAULT_QUESTION_TOKENS,
) -> Selection:
    """Segment the documents, score each segment against the question (or, with none, the
    last document's last `question_tokens` tokens), and keep the best that fit `budget`.
    Segments are made no larger than the budget."""
    if budget < 1:
        raise ConfigError(f"the key-context budget must be positive, got {budget}")
    segment_tokens = max(8, min(segment_tokens, budget))  # a segment over budget could never be kept
    segments: list[Chunk] = []
    for n, doc in enumerate(documents):
        end = None
        if question is None and n == len(documents) - 1:
            end, question = trailing_question(doc.text[: doc.body[1]], question_tokens)
        segments.extend(split_segments(doc, tokens=segment_tokens, overlap=overlap, end=end))
    question = question or ""
    before = getattr(scorer, "usage", RunUsage()).model_copy()
    scores = await scorer.score(segments, question) if segments else []
    selected = select_segments(segments, scores, budget=budget, lower_is_better=scorer.lower_is_better)
    after = getattr(scorer, "usage", RunUsage())
    usage = RunUsage(  # this selection's calls only, though the scorer may be reused
        calls=after.calls - before.calls,
        cached_calls=after.cached_calls - before.cached_calls,
        prompt_tokens=after.prompt_tokens - before.prompt_tokens,
        completion_tokens=after.completion_tokens - before.completion_tokens,
    )
    return Selection(
        question=question,
        scorer=scorer.name,
        lower_is_better=scorer.lower_is_better,
        budget=budget,
        segments=segments,
        scores=scores,
        selected=selected,
        context=splice(documents, segments, selected),
        usage=usage,
    )


def select_key_context(documents: Sequence[Document], question: str | None, scorer: SegmentScorer, **options) -> Selection:
    """Synchronous `aselect_key_context` (see `longdoc.aio.run_sync`: a running event loop is fine)."""
    from ..aio import run_sync

    return run_sync(aselect_key_context(documents, question, scorer, **options))
