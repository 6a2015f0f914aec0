"""The scorer protocol, the hybrid scorer and `make_scorer`, the one place a scorer is
chosen by name.

- `certainty` (the XL3M measure, `retrieval.certainty`): low entropy = relevant.
- `lexical`: Okapi BM25 (`retrieval.lexical`); no model, higher = relevant.
- `hybrid`: BM25 picks the candidates, `certainty` re-ranks them; segments BM25 left out
  get the largest possible entropy, log(k), so they rank after every scored one.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Literal, Protocol

from ..documents import Chunk
from ..errors import ConfigError
from ..llm.base import Model, RunUsage
from .certainty import DEFAULT_SCORE_TOKENS, DEFAULT_TOP_K, CertaintyScorer
from .lexical import LexicalScorer

ScorerName = Literal["certainty", "lexical", "hybrid"]
SCORERS: tuple[str, ...] = ("certainty", "lexical", "hybrid")

DEFAULT_HYBRID_CANDIDATES = 8
"""Segments BM25 passes to the certainty re-rank in the hybrid scorer."""


class SegmentScorer(Protocol):
    """Scores segments against a question; `lower_is_better` says which way scores rank."""

    name: str
    lower_is_better: bool

    async def score(self, segments: Sequence[Chunk], question: str) -> list[float]: ...


class HybridScorer:
    """BM25 shortlists `candidates` segments; the certainty scorer re-ranks them. The others
    get log(top_k), the largest entropy possible, so they rank after every scored segment."""

    name = "hybrid"
    lower_is_better = True

    def __init__(self, certainty: CertaintyScorer, *, candidates: int = DEFAULT_HYBRID_CANDIDATES) -> None:
        if candidates < 1:
            raise ConfigError(f"hybrid candidates must be at least 1, got {candidates}")
        self.certainty = certainty
        self.lexical = LexicalScorer()
        self.candidates = candidates

    @property
    def usage(self) -> RunUsage:
        return self.certainty.usage

    async def score(self, segments: Sequence[Chunk], question: str) -> list[float]:
        bm25 = self.lexical.score_sync(segments, question)
        ranked = sorted(range(len(segments)), key=lambda i: (-bm25[i], i))
        shortlist = sorted(i for i in ranked[: self.candidates] if bm25[i] > 0) or ranked[:1]
        entropies = await self.certainty.score([segments[i] for i in shortlist], question)
        scores = [math.log(self.certainty.top_k)] * len(segments)
        for i, value in zip(shortlist, entropies, strict=True):
            scores[i] = value
        return scores


def make_scorer(
    name: str,
    model: Model | None = None,
    *,
    concurrency: int = 4,
    top_k: int = DEFAULT_TOP_K,
    tokens: int = DEFAULT_SCORE_TOKENS,
    candidates: int = DEFAULT_HYBRID_CANDIDATES,
) -> SegmentScorer:
    """The scorer called `name` (certainty, lexical, hybrid)."""
    if name == "lexical":
        return LexicalScorer()
    if name not in ("certainty", "hybrid"):
        raise ConfigError(f"unknown scorer {name!r}; choose one of {', '.join(SCORERS)}")
    if model is None:
        raise ConfigError(f"the {name} scorer needs a model")
    certainty = CertaintyScorer(model, concurrency=concurrency, top_k=top_k, tokens=tokens)
    return certainty if name == "certainty" else HybridScorer(certainty, candidates=candidates)
