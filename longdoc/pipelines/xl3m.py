"""The XL3M strategy: select the key context by segment relevance, then answer from it with
the manager agent. Two graph steps: `select` (score every segment, keep the best that fit
the budget) and `answer`. Graph state holds segment indices and scores, never text."""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from typing import Any, TypedDict

from langgraph.graph import END, START, StateGraph

from ..agents.evidence import Evidence, select_evidence
from ..agents.manager import ManagerAgent
from ..agents.notes import NoteEntry, Notes
from ..aio import sync_entry
from ..documents import Document
from ..errors import ConfigError, PipelineError
from ..llm.base import Model, RunUsage
from ..llm.profiles import profile_of
from ..prompts import load_prompt
from ..results import AnswerResult, Citation, EvidenceQuote
from ..retrieval.key_context import Selection, aselect_key_context
from ..retrieval.scorers import SegmentScorer
from ..splitters.segments import DEFAULT_QUESTION_TOKENS, DEFAULT_SEGMENT_TOKENS
from ..text import sentence_spans
from ..tokens import token_counter
from .chain.budget import MANAGER_OUTPUT_QUESTION, SAFETY_FRACTION, SAFETY_MIN
from .chain.models import ChainPlan

ANSWER_PROMPT = "xl3m_answer"

MIN_KEY_CONTEXT = 128
"""Below this the key context holds too little to answer from: the window is too small."""


def key_context_budget(
    window: int, question: str, *, answer_tokens: int = MANAGER_OUTPUT_QUESTION, prompt: str = ANSWER_PROMPT
) -> int:
    """Tokens the key context may take: the window less a safety margin (tokenizer
    differences), the answer prompt's own text, the question and the answer reserve."""
    count = token_counter()
    template = load_prompt(prompt)
    instruction = max(
        count(part.replace("$notes", "").replace("$question", ""))
        for part in (template.completion or "", (template.system or "") + "\n" + template.user)
    )
    safety = max(SAFETY_MIN, int(window * SAFETY_FRACTION))
    budget = window - safety - instruction - count(question) - answer_tokens
    if budget < MIN_KEY_CONTEXT:
        raise ConfigError(
            f"a {window}-token window leaves {budget} tokens for the key context; "
            f"at least {MIN_KEY_CONTEXT} are needed (raise --window)"
        )
    return budget


FALLBACK_SENTENCES = 2
"""Sentences of a selected segment that stand as its evidence: what `evidence` shows and a
base model's replaced answer quotes, instead of the whole segment."""


def key_context_notes(selection: Selection, question: str = "") -> Notes:
    """The key context as the manager's notes: one entry per selected segment, whose evidence
    is the segment's sentences that share most with the question (the best segment's
    opening sentences when none shares a word), for the result's `evidence` and a base
    model's fallback. The text the manager reads is the key context itself."""
    count = token_counter()
    entries = []
    best_segment = None
    for i, (segment, score, keep) in enumerate(
        zip(selection.segments, selection.scores, selection.selected, strict=True)
    ):
        if keep:
            relevance = math.exp(-score) if selection.lower_is_better else score  # > 0, higher = better
            evidence = select_evidence(segment, mode="question", query=question, limit=FALLBACK_SENTENCES)
            entries.append(NoteEntry(
                chunk=i, source=segment.source, lines=segment.lines, evidence=tuple(evidence), relevance=relevance,
            ))
            if best_segment is None or relevance > best_segment[0]:
                best_segment = (relevance, len(entries) - 1, segment)
    if best_segment is not None and not any(e.evidence for e in entries):
        _, at, segment = best_segment
        spans = sentence_spans(segment.text)[:FALLBACK_SENTENCES]
        if spans:
            start, end = spans[0][0], spans[-1][1]
            lines = (segment.lines[0] + segment.text.count("\n", 0, start),
                     segment.lines[0] + segment.text.count("\n", 0, end))
            opening = Evidence(
                text=" ".join(segment.text[start:end].split()), start=segment.start + start,
                end=segment.start + end, lines=lines, score=0.0,
            )
            entries[at] = entries[at].model_copy(update={"evidence": (opening,)})
    text = selection.context
    return Notes(entries=tuple(entries), text=text, tokens=count(text) if text else 0)


def best_evidence(notes: Notes, limit: int = FALLBACK_SENTENCES) -> list[EvidenceQuote]:
    """The notes' best evidence sentences, best first, with their citations."""
    ranked = sorted(
        ((ev.score, entry.relevance, ev, entry) for entry in notes.entries for ev in entry.evidence),
        key=lambda t: (-t[0], -t[1]),
    )
    return [
        EvidenceQuote(text=ev.text, source=entry.source, start=ev.start, end=ev.end, lines=ev.lines,
                      section=entry.section)
        for _, _, ev, entry in ranked[:limit]
    ]


class XL3MState(TypedDict, total=False):
    question: str
    selected: list[int]
    scores: list[float]
    answer: str


async def axl3m(
    documents: Sequence[Document],
    question: str | None,
    model: Model,
    scorer: SegmentScorer,
    *,
    window: int | None = None,
    budget: int | None = None,
    segment_tokens: int = DEFAULT_SEGMENT_TOKENS,
    question_tokens: int = DEFAULT_QUESTION_TOKENS,
    answer_tokens: int = MANAGER_OUTPUT_QUESTION,
) -> AnswerResult:
    """Answer `question` (None: the input's last tokens are the question) from the key
    context the scorer selects; the result's `segments` report every segment's score."""
    if not documents:
        raise PipelineError("no document to read", stage="select")
    window = window or model.context_window
    started = time.perf_counter()
    found: dict[str, Any] = {}
    timings: dict[str, float] = {}
    usage = RunUsage()

    async def select(state: XL3MState) -> dict[str, Any]:
        t = time.perf_counter()
        q = state.get("question")
        reserve = answer_tokens + profile_of(model).reasoning_tokens  # a reasoning model thinks first
        room = budget or key_context_budget(window, q or "", answer_tokens=reserve)
        selection = await aselect_key_context(
            documents, q, scorer, budget=room, segment_tokens=segment_tokens, question_tokens=question_tokens
        )
        found["selection"] = selection
        timings["select_s"] = round(time.perf_counter() - t, 3)
        return {
            "question": selection.question,
            "selected": [i for i, keep in enumerate(selection.selected) if keep],
            "scores": selection.scores,
        }

    async def answer(state: XL3MState) -> dict[str, Any]:
        t = time.perf_counter()
        selection: Selection = found["selection"]
        notes = key_context_notes(selection, state["question"])
        found["notes"] = notes
        manager = ManagerAgent(
            model,
            mode="question",
            max_tokens=answer_tokens,
            counter=token_counter(),
            notes_cap=max(notes.tokens, 1),
            window=window,
            template=load_prompt(ANSWER_PROMPT),
        )
        result = await manager.arun([notes], question=state["question"])
        found["manager"] = result
        usage.add(result.completion)
        timings["answer_s"] = round(time.perf_counter() - t, 3)
        return {"answer": result.answer}

    graph = StateGraph(XL3MState)
    graph.add_node("select", select)
    graph.add_node("answer", answer)
    graph.add_edge(START, "select")
    graph.add_edge("select", "answer")
    graph.add_edge("answer", END)
    values = await graph.compile().ainvoke({"question": question} if question else {}, config={"recursion_limit": 4})

    selection = found["selection"]
    total = selection.usage.model_copy()
    for name in ("calls", "cached_calls", "prompt_tokens", "completion_tokens"):
        setattr(total, name, getattr(total, name) + getattr(usage, name))
    timings["total_s"] = round(time.perf_counter() - started, 3)
    return AnswerResult(
        answer=values.get("answer", ""),
        strategy="xl3m",
        chunks=len(selection.segments),
        citations=[
            Citation(source=s.source, start=s.start, end=s.end, lines=s.lines)
            for s, keep in zip(selection.segments, selection.selected, strict=True)
            if keep
        ],
        usage=total,
        timings=timings,
        notes=[selection.context],
        segments=selection.segment_scores(),
        profile=profile_of(model).name,
        grounded=found["manager"].grounded,
        fallback=found["manager"].fallback,
        raw_answer=found["manager"].raw,
        evidence=best_evidence(found["notes"]),
    )


@sync_entry(axl3m)
def xl3m() -> AnswerResult:
    """Synchronous `axl3m` (see `longdoc.aio.run_sync`: a running event loop is fine)."""


def plan_xl3m(
    documents: Sequence[Document],
    question: str,
    scorer: str,
    *,
    window: int,
    segment_tokens: int = DEFAULT_SEGMENT_TOKENS,
    candidates: int | None = None,
) -> ChainPlan:
    """What an xl3m run would do, with no model call: segments, scoring calls (all segments
    for certainty, BM25's shortlist for hybrid, none for lexical) plus the answer call, and
    an upper bound on prompt tokens. The dense encoder's CPU work is not a model call."""
    from ..retrieval.certainty import DEFAULT_SCORE_TOKENS
    from ..retrieval.scorers import selection_calls
    from ..splitters.segments import split_segments

    count = token_counter()
    budget = key_context_budget(window, question)
    size = max(8, min(segment_tokens, budget))
    segments = [s for doc in documents for s in split_segments(doc, tokens=size)]
    scoring = selection_calls(scorer, len(segments), candidates=candidates)
    template = load_prompt("relevance")
    overhead = count((template.completion or template.user).replace("$segment", "").replace("$question", question))
    largest = sorted((s.tokens for s in segments), reverse=True)
    scoring_tokens = sum(largest[:scoring]) + scoring * overhead
    answer_tokens = min(budget, sum(s.tokens for s in segments)) + window - budget - MANAGER_OUTPUT_QUESTION
    return ChainPlan(
        strategy="xl3m",
        mode="question",
        window=window,
        chunk_tokens=size,
        notes_cap=budget,
        worker_output=DEFAULT_SCORE_TOKENS if scoring else 0,
        manager_output=MANAGER_OUTPUT_QUESTION,
        document_tokens=sum(count(d.text) for d in documents),
        chunks=len(segments),
        workers=scoring,
        groups=[],
        calls=scoring + 1,
        prompt_tokens=scoring_tokens + answer_tokens,
        completion_tokens=scoring * DEFAULT_SCORE_TOKENS + MANAGER_OUTPUT_QUESTION,
    )
