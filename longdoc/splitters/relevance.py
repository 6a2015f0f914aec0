"""XL3M-style segment relevance: cut a long input into segments, score each against a
question, and keep the most relevant ones, in their original order, as a short key context.

Scorers (all report a float per segment; `lower_is_better` says which way it ranks):

- `certainty` (the XL3M measure): the model reads segment + question + an answer cue and
  generates a few tokens with top-k logprobs; the score is the mean entropy (nats) of those
  next-token distributions, renormalised over the top-k. Low entropy = the model is sure
  of its answer = the segment is relevant. Needs a backend that returns logprobs.
- `lexical`: Okapi BM25 of the question against each segment. No model; higher = relevant.
- `hybrid`: BM25 picks the candidates, `certainty` re-ranks them; segments BM25 left out
  get the largest possible entropy, log(k), so they rank after every scored one.
"""

from __future__ import annotations

import asyncio
import itertools
import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol

from ..documents import Chunk, Document, LineIndex
from ..errors import ConfigError, EmptyResponse, LogprobsUnsupported
from ..llm.base import Completion, CompletionRequest, Model, RunUsage, TokenLogprob
from ..prompts import PromptTemplate, load_prompt
from ..results import SegmentScore
from ..tokens import DEFAULT_ENCODING, get_encoding

ScorerName = Literal["certainty", "lexical", "hybrid"]
SCORERS: tuple[str, ...] = ("certainty", "lexical", "hybrid")

DEFAULT_SEGMENT_TOKENS = 384
"""Small enough that one segment holds few topics (a sharper certainty signal), large enough
that a 128k-token input stays a few hundred model calls."""

DEFAULT_OVERLAP_TOKENS = 48
"""About one or two sentences (1/8 of a segment): a fact cut at a segment boundary is still
whole in one of the two; with 32, long sentences made most boundaries overlap-free."""

DEFAULT_QUESTION_TOKENS = 64
"""With no explicit question, the input's last tokens play its part (as in XL3M)."""

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

DEFAULT_HYBRID_CANDIDATES = 8
"""Segments BM25 passes to the certainty re-rank in the hybrid scorer."""

CONTEXT_SEPARATOR = "\n[...]\n"
"""Placed between selected spans that were not adjacent in the input."""


# --------------------------------------------------------------------------- segments

_SENTENCE_END = re.compile(r"(?:[.!?]+[\"')\]]*\s+|\n[ \t]*\n\s*)")
"""After a sentence's closing punctuation, or a blank line (a paragraph or block ends)."""
_SPACE = re.compile(r"\s+")


def _pieces(text: str, start: int, end: int, limit: int, count) -> list[tuple[int, int, int]]:
    """Sentences of text[start:end] as (start, end, tokens); one longer than `limit` tokens
    is cut at spaces (or, as a last resort, anywhere) into pieces that fit."""
    bounds = [start]
    for match in _SENTENCE_END.finditer(text, start, end):
        if match.end() < end:
            bounds.append(match.end())
    bounds.append(end)
    pieces: list[tuple[int, int, int]] = []
    for s, e in itertools.pairwise(bounds):
        if e <= s:
            continue
        n = count(text[s:e])
        if n <= limit:
            pieces.append((s, e, n))
        else:
            pieces.extend(_cut_long(text, s, e, limit, count))
    return pieces


def _cut_long(text: str, start: int, end: int, limit: int, count) -> list[tuple[int, int, int]]:
    """Cut text[start:end] at spaces into pieces of at most `limit` tokens; a run with no
    space that is still too long is cut by characters."""
    cuts = [m.end() for m in _SPACE.finditer(text, start, end) if m.end() < end] + [end]
    out: list[tuple[int, int, int]] = []
    s, k = start, 0
    while s < end:
        best = None
        while k < len(cuts) and count(text[s : cuts[k]]) <= limit:
            best = cuts[k]
            k += 1
        if best is None:  # no space within the limit: cut by characters
            e = s + 1
            while e < end and count(text[s : e + 1]) <= limit:
                e += 1
            best = e
            while k < len(cuts) and cuts[k] <= best:
                k += 1
        out.append((s, best, count(text[s:best])))
        s = best
    return out


def split_segments(
    document: Document,
    *,
    tokens: int = DEFAULT_SEGMENT_TOKENS,
    overlap: int | None = None,
    end: int | None = None,
    encoding: str = DEFAULT_ENCODING,
) -> list[Chunk]:
    """Token windows of about `tokens` tokens ending at sentence boundaries, each sharing its
    last sentences (up to `overlap` tokens) with the next; `document.text[c.start:c.end] ==
    c.text` for each. Only the body is segmented (`Document.body`: no Gutenberg licence).
    `end` stops the segments early (the question's own tokens). The default
    overlap is DEFAULT_OVERLAP_TOKENS, or an eighth of a smaller segment."""
    if tokens < 8:
        raise ConfigError(f"segment size must be at least 8 tokens, got {tokens}")
    if overlap is None:
        overlap = min(DEFAULT_OVERLAP_TOKENS, tokens // 8)
    if not 0 <= overlap < tokens // 2:
        raise ConfigError(f"overlap must be between 0 and half the segment size, got {overlap}")
    text = document.text
    first, last = document.body  # a Gutenberg header and licence are not segments
    stop = last if end is None else min(end, last)
    encode = get_encoding(encoding).encode_ordinary

    def count(s: str) -> int:
        return len(encode(s))

    pieces = _pieces(text, first, stop, tokens, count)
    lines = LineIndex(text)
    meta = {"path": document.path} if document.path else {}
    segments: list[Chunk] = []
    i = 0
    while i < len(pieces):
        j, total = i, 0
        while j < len(pieces) and total + pieces[j][2] <= tokens:
            total += pieces[j][2]
            j += 1
        s, e = pieces[i][0], pieces[j - 1][1]
        while e > s and text[e - 1].isspace():
            e -= 1
        if e > s:
            segments.append(
                Chunk(
                    doc_id=document.id,
                    index=len(segments),
                    start=s,
                    end=e,
                    text=text[s:e],
                    tokens=count(text[s:e]),
                    lines=lines.span(s, e),
                    meta=dict(meta),
                )
            )
        if j >= len(pieces):
            break
        back, carried = j, 0
        while back - 1 > i and carried + pieces[back - 1][2] <= overlap:
            back -= 1
            carried += pieces[back][2]
        i = back
    return segments


def trailing_question(
    text: str, tokens: int = DEFAULT_QUESTION_TOKENS, encoding: str = DEFAULT_ENCODING
) -> tuple[int, str]:
    """The input's last `tokens` tokens as the question, and where they start in `text`."""
    enc = get_encoding(encoding)
    ids = enc.encode_ordinary(text)
    if len(ids) <= tokens:
        return 0, text
    prefix = enc.decode_bytes(ids[: len(ids) - tokens])
    start = len(text.encode("utf-8")[: len(prefix)].decode("utf-8", errors="ignore"))
    return start, text[start:]


# --------------------------------------------------------------------------- entropy


def token_entropy(top: Sequence[tuple[str, float]]) -> float:
    """Entropy (nats) of one next-token distribution known only by its top-k logprobs,
    renormalised over those k."""
    if not top:
        raise ValueError("no alternatives to compute an entropy from")
    peak = max(lp for _, lp in top)
    weights = [math.exp(lp - peak) for _, lp in top]
    total = sum(weights)
    return -sum((w / total) * math.log(w / total) for w in weights if w > 0)


def mean_entropy(logprobs: Sequence[TokenLogprob], top_k: int) -> float:
    """Mean next-token entropy over the generated tokens; with no generated token the
    largest entropy a k-way distribution can have (the model told us nothing)."""
    values = [token_entropy(t.top or ((t.token, t.logprob),)) for t in logprobs]
    return sum(values) / len(values) if values else math.log(max(2, top_k))


# --------------------------------------------------------------------------- scorers


class SegmentScorer(Protocol):
    """Scores segments against a question; `lower_is_better` says which way scores rank."""

    name: str
    lower_is_better: bool

    async def score(self, segments: Sequence[Chunk], question: str) -> list[float]: ...


_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_STOPWORD_TEXT = (
    "a an the of to in on at for and or but is are was were be been being it its this that "
    "these those what which who whom whose when where why how do does did with by from as "
    "about into than then so not no i you he she we they them his her our their there here "
    "can could would should will shall may might must has have had"
)
_STOPWORDS = frozenset(_STOPWORD_TEXT.split())


def terms(text: str) -> list[str]:
    """Lower-cased word terms without stop words: what BM25 matches on."""
    return [w for w in (m.group().lower() for m in _WORD.finditer(text)) if w not in _STOPWORDS]


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
    ) -> None:
        if concurrency < 1:
            raise ConfigError(f"concurrency must be at least 1, got {concurrency}")
        if not 2 <= top_k <= 20:
            raise ConfigError(f"top_k must be between 2 and 20, got {top_k}")
        self.model = model
        self.concurrency = concurrency
        self.top_k = top_k
        self.tokens = tokens
        self.template = load_prompt(prompt) if isinstance(prompt, str) else prompt
        self.usage = RunUsage()

    def request(self, segment: str, question: str) -> CompletionRequest:
        request = self.template.request(max_tokens=self.tokens, segment=segment, question=question)
        return request.model_copy(update={"logprobs": self.top_k, "stop": ()})

    def entropy_of(self, completion: Completion) -> float:
        if completion.logprobs is None:
            raise LogprobsUnsupported(
                f"model {self.model.name!r} returned no token logprobs, which the certainty "
                "scorer needs; use --scorer lexical (BM25, no model) instead",
                model=self.model.name,
            )
        return mean_entropy(completion.logprobs, self.top_k)

    async def score(self, segments: Sequence[Chunk], question: str) -> list[float]:
        """Scores in segment order; at most `concurrency` calls in flight (a fixed pool of
        workers, not one task per segment)."""
        scores: list[float | None] = [None] * len(segments)
        next_index = iter(range(len(segments)))

        async def worker() -> None:
            for i in next_index:
                try:
                    completion = await self.model.acomplete(self.request(segments[i].text, question))
                except EmptyResponse:  # ended at once: no distribution to read, no certainty
                    self.usage.calls += 1
                    scores[i] = math.log(self.top_k)
                    continue
                self.usage.add(completion)
                scores[i] = self.entropy_of(completion)

        workers = [asyncio.create_task(worker()) for _ in range(min(self.concurrency, len(segments)))]
        try:
            await asyncio.gather(*workers)
        finally:
            for task in workers:
                task.cancel()
        return [s if s is not None else math.log(self.top_k) for s in scores]


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


# --------------------------------------------------------------------------- selection


def select_segments(
    segments: Sequence[Chunk], scores: Sequence[float], *, budget: int, lower_is_better: bool
) -> list[bool]:
    """The best-scoring segments whose tokens together fit `budget` (ties go to the earlier
    segment; a segment that does not fit is skipped for smaller ones after it)."""
    if len(segments) != len(scores):
        raise ValueError("one score per segment is needed")
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
