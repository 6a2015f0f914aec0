"""Certainty calibrated against the segment's own baseline: the entropy of the model's reply
to the question, less the entropy of its continuation of the same segment read without any
question. Prose that is easy to continue whatever is asked (a list, a refrain, a closing
line) has a low baseline, so its low answer entropy no longer reads as relevance; a segment
ranks high only when the question makes the model surer than the segment alone does.

The baseline prompt is the segment itself, which is also the start of the scored prompt
(segment first, question after), so a server that reuses a cached prompt prefix reads the
segment once for both calls. The baseline does not depend on the question: it is kept by
segment text and reused for later questions over the same text."""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Sequence

from ..documents import Chunk
from ..llm.base import CompletionRequest, Message, RunUsage
from .certainty import ANSWER_ENDS, CertaintyScorer, pooled

BASELINE_CACHE_SIZE = 4096
"""Segments whose baseline entropy is kept (a float each), oldest dropped first."""


class CalibratedScorer:
    """Question entropy minus the segment's question-free baseline entropy (lower = more
    relevant); two calls per segment, the second one only for segments not seen before."""

    name = "calibrated"
    lower_is_better = True

    def __init__(self, certainty: CertaintyScorer, *, cache_size: int = BASELINE_CACHE_SIZE) -> None:
        self.certainty = certainty
        self.cache_size = cache_size
        self._baselines: OrderedDict[str, float] = OrderedDict()

    @property
    def usage(self) -> RunUsage:
        return self.certainty.usage

    def baseline_request(self, segment: str) -> CompletionRequest:
        """The segment alone, continued for as many tokens (and with the same stop) as the
        scored reply."""
        return CompletionRequest(
            messages=(Message(role="user", content=segment),),
            prompt=segment,
            max_tokens=self.certainty.tokens,
            logprobs=self.certainty.top_k,
            stop=ANSWER_ENDS if self.certainty.span == "answer" else (),
        )

    async def baseline(self, segment: str) -> float:
        """The segment's question-free entropy (cached by its text)."""
        if segment in self._baselines:
            self._baselines.move_to_end(segment)
            return self._baselines[segment]
        value = await self.certainty.entropy_for(self.baseline_request(segment))
        self._baselines[segment] = value
        while len(self._baselines) > self.cache_size:
            self._baselines.popitem(last=False)
        return value

    async def score(self, segments: Sequence[Chunk], question: str) -> list[float]:
        """Per segment, baseline then scored call in one worker (so the second finds the
        segment already read), at most `certainty.concurrency` workers."""
        scores = [math.log(self.certainty.top_k)] * len(segments)

        async def job(i: int) -> None:
            text = segments[i].text
            base = await self.baseline(text)
            scores[i] = await self.certainty.score_one(text, question) - base

        await pooled(len(segments), self.certainty.concurrency, job)
        return scores
