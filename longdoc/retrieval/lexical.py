"""Okapi BM25 of the question against each segment: no model, higher = more relevant."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence

from ..documents import Chunk
from ..text import terms


def bm25_scores(
    documents: Sequence[Sequence[str]], query: Sequence[str], *, k1: float = 1.5, b: float = 0.75
) -> list[float]:
    """Okapi BM25 of `query` against each term list, with the non-negative idf
    log(1 + (N - n + 0.5) / (n + 0.5))."""
    n_docs = len(documents)
    if n_docs == 0:
        return []
    lengths = [len(d) for d in documents]
    avg = sum(lengths) / n_docs or 1.0
    freqs = [Counter(d) for d in documents]
    df = Counter(t for f in freqs for t in f)
    wanted = Counter(query)
    scores = []
    for f, length in zip(freqs, lengths, strict=True):
        total = 0.0
        for term, times in wanted.items():
            tf = f.get(term, 0)
            if not tf:
                continue
            idf = math.log(1 + (n_docs - df[term] + 0.5) / (df[term] + 0.5))
            total += times * idf * tf * (k1 + 1) / (tf + k1 * (1 - b + b * length / avg))
        scores.append(total)
    return scores


class LexicalScorer:
    """BM25 of the question's terms against each segment; no model call."""

    name = "lexical"
    lower_is_better = False

    def __init__(self, *, k1: float = 1.5, b: float = 0.75) -> None:
        self.k1, self.b = k1, b

    def score_sync(self, segments: Sequence[Chunk], question: str) -> list[float]:
        return bm25_scores([terms(s.text) for s in segments], terms(question), k1=self.k1, b=self.b)

    async def score(self, segments: Sequence[Chunk], question: str) -> list[float]:
        return self.score_sync(segments, question)
