"""Dense relevance: the cosine similarity of the question to each segment's best passage,
both encoded by the sentence encoder (`longdoc.embedding`). No language-model call.

A segment is scored by its best passage, not by one vector for the whole segment: a
needle is one or two sentences among hundreds, and averaging them into a segment's vector
drowns them. Passages are sentences, a very short one joined to its neighbour. Adding each
pair of neighbouring sentences costs 2.7 times the encoding; it kept no more needles on the
needle suite and found the answer for 4 more of 105 held-out questions under the fusion
(benchmarks/RESULTS.md, selection-nq), not worth the time as a default."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from ..documents import Chunk
from ..embedding import SentenceEncoder, shared_encoder
from ..text import sentence_spans, words

MIN_PASSAGE_WORDS = 3
"""Shorter sentences ("Why?", a heading) join the next one rather than stand alone."""


def passages(text: str) -> list[str]:
    """The sentences of `text`, each shorter than MIN_PASSAGE_WORDS joined to the next (the
    last such to the one before)."""
    units: list[str] = []
    pending = ""
    for start, end in sentence_spans(text, lines=True):
        sentence = text[start:end]
        pending = f"{pending} {sentence}" if pending else sentence
        if len(words(pending)) >= MIN_PASSAGE_WORDS:
            units.append(pending)
            pending = ""
    if pending:
        if units:
            units[-1] = f"{units[-1]} {pending}"
        else:
            units.append(pending)
    return units


class DenseScorer:
    """Each segment's score is the highest cosine similarity between the question and one
    of its passages (higher = more relevant)."""

    name = "dense"
    lower_is_better = False

    def __init__(self, encoder: SentenceEncoder | None = None) -> None:
        self.encoder = encoder or shared_encoder()

    def score_sync(self, segments: Sequence[Chunk], question: str) -> list[float]:
        units = [passages(s.text) for s in segments]
        similarity = self.encoder.similarities(question, [p for u in units for p in u])
        scores: list[float] = []
        at = 0
        for u in units:
            scores.append(max(similarity[at : at + len(u)], default=-1.0))
            at += len(u)
        return scores

    async def score(self, segments: Sequence[Chunk], question: str) -> list[float]:
        return await asyncio.to_thread(self.score_sync, segments, question)
