"""The scorer protocol, the hybrid scorer and `make_scorer`, the one place a scorer is
chosen by name.

- `certainty` (the XL3M measure, `retrieval.certainty`): low entropy = relevant.
- `lexical`: Okapi BM25 (`retrieval.lexical`); no model, higher = relevant.
- `hybrid`: BM25 picks the candidates, `certainty` re-ranks them; segments BM25 left out
  get the largest possible entropy, log(k), so they rank after every scored one.
- `answer`: certainty over the answer's own tokens only (generation stops at its end).
- `calibrated`: `answer` less the segment's question-free baseline (`retrieval.calibrated`).
- `expanded`: BM25 with the model's guessed answer added to the query (`retrieval.expansion`).
- `dense`: cosine similarity of sentence-encoder vectors (`retrieval.dense`); no model call.
- `fusion`: reciprocal rank fusion of BM25 and `answer` (`retrieval.fusion`); `fusion=a+b`
  fuses any of the others.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Protocol

from ..documents import Chunk
from ..errors import ConfigError
from ..llm.base import Model, RunUsage
from .calibrated import CalibratedScorer
from .certainty import DEFAULT_SCORE_TOKENS, DEFAULT_TOP_K, CertaintyScorer
from .dense import DenseScorer
from .expansion import ExpandedLexicalScorer
from .fusion import FusionScorer
from .lexical import LexicalScorer

SCORERS: tuple[str, ...] = (
    "certainty", "lexical", "dense", "hybrid", "answer", "calibrated", "expanded", "fusion"
)
"""Scorer names `make_scorer` knows; `fusion=a+b` (any two or more of the others) too."""

DEFAULT_FUSION = ("lexical", "answer")
"""What plain `fusion` fuses."""


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


def parse_scorer(name: str) -> tuple[str, tuple[str, ...]]:
    """(kind, fused members) of a scorer name; ConfigError for a name `make_scorer` would
    not know."""
    base, _, spec = name.partition("=")
    if base not in SCORERS or (spec and base != "fusion"):
        raise ConfigError(f"unknown scorer {name!r}; choose one of {', '.join(SCORERS)} (or fusion=a+b)")
    if base != "fusion":
        return base, ()
    parts = tuple(p for p in spec.split("+") if p) if spec else DEFAULT_FUSION
    for part in parts:
        if part.startswith("fusion") or part not in SCORERS:
            raise ConfigError(f"fusion members are scorers other than fusion, got {part!r} in {name!r}")
    if len(parts) < 2:
        raise ConfigError(f"a fusion needs at least two scorers: {name!r}")
    return base, parts


def make_scorer(
    name: str,
    model: Model | None = None,
    *,
    concurrency: int = 4,
    top_k: int = DEFAULT_TOP_K,
    tokens: int = DEFAULT_SCORE_TOKENS,
    candidates: int = DEFAULT_HYBRID_CANDIDATES,
) -> SegmentScorer:
    """The scorer called `name` (one of SCORERS, or `fusion=a+b`)."""
    base, parts = parse_scorer(name)
    if base == "lexical":
        return LexicalScorer()
    if base == "dense":
        return DenseScorer()
    if base == "fusion":
        options = dict(concurrency=concurrency, top_k=top_k, tokens=tokens, candidates=candidates)
        members = [make_scorer(p, model, **options) for p in parts]
        return FusionScorer(members, name=name)
    if model is None:
        raise ConfigError(f"the {name} scorer needs a model")
    if base == "expanded":
        return ExpandedLexicalScorer(model)
    span = "answer" if base in ("answer", "calibrated") else "all"
    certainty = CertaintyScorer(model, concurrency=concurrency, top_k=top_k, tokens=tokens, span=span)
    if base == "calibrated":
        return CalibratedScorer(certainty)
    return HybridScorer(certainty, candidates=candidates) if base == "hybrid" else certainty


def selection_calls(name: str, segments: int, *, candidates: int | None = None) -> int:
    """Model calls the scorer `name` makes to score `segments` segments (for plans): none for
    lexical, one (the guess) for expanded, one per segment for certainty and answer, two for
    calibrated (its baselines may come from its cache), the shortlist for hybrid, and the
    sum of its members for a fusion."""
    base, parts = parse_scorer(name)
    if base == "fusion":
        return sum(selection_calls(p, segments, candidates=candidates) for p in parts)
    return {
        "lexical": 0,
        "dense": 0,
        "expanded": 1 if segments else 0,
        "certainty": segments,
        "answer": segments,
        "calibrated": 2 * segments,
        "hybrid": min(segments, candidates or DEFAULT_HYBRID_CANDIDATES),
    }[base]
