"""The XL3M relevance measure: the model reads segment + question + an answer cue and
generates a few tokens with top-k logprobs; the score is the mean entropy (nats) of those
next-token distributions, renormalised over the top-k. Low entropy = the model is sure of its
answer = the segment is relevant. Needs a backend that returns logprobs.

`span="answer"` scores the answer's own tokens only: generation stops at the answer's end
(its first line break), so a one-word answer is not averaged with the model's ramble after
it, and fewer tokens are generated."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Awaitable, Callable, Sequence
from typing import Literal

from ..documents import Chunk
from ..errors import ConfigError, EmptyResponse, InvalidValue, LogprobsUnsupported
from ..llm.base import Completion, CompletionRequest, Model, RunUsage, TokenLogprob
from ..prompts import PromptTemplate, load_prompt

DEFAULT_TOP_K = 10
"""Alternatives per generated token for the entropy; most servers cap top logprobs at 20."""

DEFAULT_SCORE_TOKENS = 16
"""Tokens generated per segment: enough to cover the answer itself, not only its opening.
The first tokens' entropy is mostly about how to start (" The", " We"), and a model that
restates the question ("The best thing to do in San Francisco is ...") copies those tokens
from the question at near-zero entropy whatever the segment says, so a short window ranks
segments by how readily the model echoes the question. Measured on the embedded model
(needle in 16k tokens at depth 50, 48 segments): the mean over 8 tokens ranked the
needle's segment 12th (behind segments whose reply restated the question or began "I don't
know. I'm not sure."), over
12 tokens 1st (0.91 vs 0.93 nats), over 16 tokens 1st (0.81 vs 1.06); at 4k and 8k tokens
8, 12, 16 and 20 all ranked it 1st. On a 4k haystack (12 segments) 4 tokens had ranked it
1st by a thin margin and 1 token 2nd-4th."""


ANSWER_ENDS = ("\n", ". ")
"""Where an answer ends for `span="answer"`: its line, or its first sentence (the base model
often runs on after a full stop on the same line: "  It's teal.  It's a very ...")."""

Span = Literal["all", "answer"]


def token_entropy(top: Sequence[tuple[str, float]]) -> float:
    """Entropy (nats) of one next-token distribution known only by its top-k logprobs,
    renormalised over those k."""
    if not top:
        raise InvalidValue("no alternatives to compute an entropy from", setting="top", value=top)
    peak = max(lp for _, lp in top)
    weights = [math.exp(lp - peak) for _, lp in top]
    total = sum(weights)
    return -sum((w / total) * math.log(w / total) for w in weights if w > 0)


def mean_entropy(logprobs: Sequence[TokenLogprob], top_k: int) -> float:
    """Mean next-token entropy over the generated tokens; with no generated token the
    largest entropy a k-way distribution can have (the model told us nothing)."""
    values = [token_entropy(t.top or ((t.token, t.logprob),)) for t in logprobs]
    return sum(values) / len(values) if values else math.log(max(2, top_k))


def answer_tokens(logprobs: Sequence[TokenLogprob]) -> list[TokenLogprob]:
    """The generated tokens that make up the answer: those starting before its end (the
    first of ANSWER_ENDS in the generated text, its full stop counted as the answer's). A
    server may or may not return the token that hit the stop sequence; either way it is
    left out unless it also carries answer text."""
    text = "".join(t.token for t in logprobs)
    ends = [text.find(end) for end in ANSWER_ENDS if end in text]
    cut = min(ends, default=len(text))
    if cut < len(text) and text[cut] == ".":
        cut += 1  # the full stop belongs to the answer
    kept, offset = [], 0
    for token in logprobs:
        if offset >= cut:
            break
        if text[offset:cut].strip() or offset == 0:
            kept.append(token)
        offset += len(token.token)
    return [t for t in kept if t.token.strip() or len(kept) == 1] or kept


async def pooled(count: int, concurrency: int, job: Callable[[int], Awaitable[None]]) -> None:
    """Run `job(0..count-1)` on at most `concurrency` workers (a fixed pool, not one task
    per item); the first failure cancels the rest."""
    next_index = iter(range(count))

    async def worker() -> None:
        for i in next_index:
            await job(i)

    workers = [asyncio.create_task(worker()) for _ in range(min(concurrency, count))]
    try:
        await asyncio.gather(*workers)
    finally:
        for task in workers:
            task.cancel()


class CertaintyScorer:
    """The XL3M measure: mean top-k entropy of the first generated answer tokens when the
    model reads segment, question and answer cue (prompt `relevance`)."""

    name = "certainty"
    lower_is_better = True

    def __init__(
        self,
        model: Model,
        *,
        concurrency: int = 4,
        top_k: int = DEFAULT_TOP_K,
        tokens: int = DEFAULT_SCORE_TOKENS,
        prompt: str | PromptTemplate = "relevance",
        span: Span = "all",
    ) -> None:
        if concurrency < 1:
            raise ConfigError(f"concurrency must be at least 1, got {concurrency}")
        if not 2 <= top_k <= 20:
            raise ConfigError(f"top_k must be between 2 and 20, got {top_k}")
        if span not in ("all", "answer"):
            raise ConfigError(f"span must be 'all' or 'answer', got {span!r}")
        self.span: Span = span
        if span == "answer":
            self.name = "answer"
        self.model = model
        self.concurrency = concurrency
        self.top_k = top_k
        self.tokens = tokens
        self.template = load_prompt(prompt) if isinstance(prompt, str) else prompt
        self.usage = RunUsage()

    def request(self, segment: str, question: str) -> CompletionRequest:
        request = self.template.request(max_tokens=self.tokens, segment=segment, question=question)
        stop = ANSWER_ENDS if self.span == "answer" else ()
        return request.model_copy(update={"logprobs": self.top_k, "stop": stop})

    def entropy_of(self, completion: Completion) -> float:
        if completion.logprobs is None:
            raise LogprobsUnsupported(
                f"model {self.model.name!r} returned no token logprobs, which the certainty "
                "scorer needs; use --scorer lexical (BM25, no model) instead",
                model=self.model.name,
            )
        tokens = answer_tokens(completion.logprobs) if self.span == "answer" else completion.logprobs
        return mean_entropy(tokens, self.top_k)

    async def entropy_for(self, request: CompletionRequest) -> float:
        """The entropy of the model's reply to `request`; log(top_k) when it ended at once
        (no distribution to read, no certainty)."""
        try:
            completion = await self.model.acomplete(request)
        except EmptyResponse:
            self.usage.calls += 1
            return math.log(self.top_k)
        self.usage.add(completion)
        return self.entropy_of(completion)

    async def score_one(self, segment: str, question: str) -> float:
        return await self.entropy_for(self.request(segment, question))

    async def score(self, segments: Sequence[Chunk], question: str) -> list[float]:
        """Scores in segment order; at most `concurrency` calls in flight."""
        scores = [math.log(self.top_k)] * len(segments)

        async def job(i: int) -> None:
            scores[i] = await self.score_one(segments[i].text, question)

        await pooled(len(segments), self.concurrency, job)
        return scores
