"""Running the suite's cells: one needle in one haystack (length, depth), selection by each
scorer (and optionally the answer from it), or the chain reading everything; a row each."""

from __future__ import annotations

import asyncio
import json
import os
import re
import time
from collections.abc import Iterable, Sequence
from pathlib import Path

from pydantic import BaseModel

from ...config import Settings
from ...documents import Document
from ...errors import SourceError
from ...llm.base import Model
from ...retrieval.certainty import pooled
from ...retrieval.fusion import FusionScorer
from ...retrieval.key_context import Selection, aselect_key_context
from ...retrieval.scorers import SegmentScorer, make_scorer
from ...splitters.segments import DEFAULT_SEGMENT_TOKENS, split_segments
from .placement import SuiteHaystack
from .shared_calls import Ledger, SharedCalls
from .suite import SuiteNeedle

_SENTENCE = re.compile(r"[^.!?]+[.!?]+")


class SuiteRow(BaseModel):
    """One cell's outcome for one scorer (strategy `select`: selection only; `xl3m`: then
    the answer; `chain`: reading everything)."""

    needle: str
    kind: str
    tokens: int
    depth: float
    strategy: str
    scorer: str | None = None
    selected: bool
    """Every needle sentence is whole in the key context (chain: in the final notes)."""
    ranks: list[int | None] = []
    """Per needle sentence: rank of the best segment holding it whole (1 = most relevant)."""
    segments: int | None = None
    answered: bool | None = None
    """The answer holds every gold answer part; None when no answer was asked for."""
    answer: str | None = None
    calls: int
    seconds: float
    load: float | None = None
    scores: list[float] | None = None
    """Selection rows of single scorers: every segment's score, so fusions of them can be
    recomputed from the rows without a model (see `holding` and `segment_tokens`)."""
    holding: list[list[int]] | None = None
    """Per needle sentence: the segments holding it whole."""
    segment_tokens: list[int] | None = None

    def key(self) -> tuple:
        return cell_key(self.needle, self.tokens, self.depth, self.strategy, self.scorer)


def cell_key(needle: str, tokens: int, depth: float, strategy: str, scorer: str | None) -> tuple:
    return (needle, int(tokens), float(depth), strategy, scorer)


def sentences_of(needle_text: str) -> list[str]:
    """The sentences of a needle, whitespace-normalised (a two-sentence needle is kept only
    if both are)."""
    text = " ".join(needle_text.split())
    found = [s.strip() for s in _SENTENCE.findall(text)]
    return found or [text]


def holds_all(text: str, needles: Iterable[str]) -> bool:
    """Whether `text` holds every sentence of every needle, verbatim up to whitespace."""
    flat = " ".join(text.split())
    return all(s in flat for n in needles for s in sentences_of(n))


def needle_segments(selection: Selection, haystack: SuiteHaystack) -> list[list[int]]:
    """Per needle span: the indices of the segments holding it whole."""
    return [
        [i for i, s in enumerate(selection.segments) if s.start <= start and s.end >= end]
        for start, end in haystack.needle_spans
    ]


def needle_ranks(selection: Selection, haystack: SuiteHaystack) -> list[int | None]:
    """Per needle span: the rank of the best-scored segment holding it whole, or None."""
    sign = 1.0 if selection.lower_is_better else -1.0
    order = sorted(range(len(selection.segments)), key=lambda i: (sign * selection.scores[i], i))
    position = {i: n for n, i in enumerate(order, start=1)}
    ranks: list[int | None] = []
    for start, end in haystack.needle_spans:
        holding = [position[i] for i, s in enumerate(selection.segments) if s.start <= start and s.end >= end]
        ranks.append(min(holding) if holding else None)
    return ranks


def load_average() -> float | None:
    try:
        return round(os.getloadavg()[0], 2)
    except OSError:
        return None


async def _warm(document: Document, question: str, scorers: dict[str, SegmentScorer], order: Sequence[str],
                budget: int, concurrency: int, ledgers: dict[str, Ledger]) -> None:
    """Per segment, every per-segment scorer of `order` back to back (so the server reads the
    segment once and later calls reuse it), their replies remembered by `SharedCalls`;
    charged to each scorer's ledger when it then scores the whole haystack."""
    size = max(8, min(DEFAULT_SEGMENT_TOKENS, budget))
    segments = split_segments(document, tokens=size)

    async def job(i: int) -> None:
        for name in order:
            await ledgers[name].charging(scorers[name].score([segments[i]], question))

    await pooled(len(segments), concurrency, job)


async def select_cell(
    needle: SuiteNeedle,
    haystack: SuiteHaystack,
    scorers: dict[str, SegmentScorer],
    shared: SharedCalls | None,
    *,
    budget: int,
    warm: Sequence[str] = (),
    concurrency: int = 2,
) -> list[SuiteRow]:
    """Selection only, for every scorer of `scorers` on one haystack; requests common to
    several scorers are sent once (`SharedCalls`) and charged to each (no `shared`: scorers
    that call no model)."""
    document = Document.from_text(haystack.text, path=f"haystack-{needle.id}-{haystack.tokens}-{haystack.depth:g}.txt")
    if shared is not None:
        shared.forget()
    ledgers = {name: Ledger() for name in scorers}
    if warm:
        await _warm(document, needle.question, scorers, warm, budget, concurrency, ledgers)
    rows = []
    for name, scorer in scorers.items():
        ledger = ledgers[name]
        selection = await ledger.charging(aselect_key_context([document], needle.question, scorer, budget=budget))
        single = not isinstance(scorer, FusionScorer)
        rows.append(SuiteRow(
            needle=needle.id, kind=needle.kind, tokens=haystack.tokens, depth=haystack.depth, strategy="select",
            scorer=name, selected=holds_all(selection.context, needle.needles),
            ranks=needle_ranks(selection, haystack), segments=len(selection.segments),
            calls=ledger.calls, seconds=round(ledger.seconds, 3), load=load_average(),
            scores=[round(x, 5) for x in selection.scores] if single else None,
            holding=needle_segments(selection, haystack) if single else None,
            segment_tokens=[seg.tokens for seg in selection.segments] if single else None,
        ))
    return rows


def answer_cell(
    needle: SuiteNeedle,
    haystack: SuiteHaystack,
    scorer_name: str,
    model: SharedCalls,
    *,
    window: int,
    scorer: SegmentScorer | None = None,
    concurrency: int = 2,
) -> SuiteRow:
    """XL3M end to end with `scorer_name` (or the `scorer` given): select, then the manager
    answers. Through `SharedCalls`, a selection this cell already made is not sent again
    but is still charged (calls and seconds count it)."""
    from ...pipelines.xl3m import xl3m

    document = Document.from_text(haystack.text, path=f"haystack-{needle.id}-{haystack.tokens}-{haystack.depth:g}.txt")
    scorer = scorer or make_scorer(scorer_name, model, concurrency=concurrency)
    ledger = Ledger()
    result = ledger.charged(lambda: xl3m([document], needle.question, model, scorer, window=window))
    kept = "\n".join(document.text[s.start : s.end] for s in result.segments or () if s.selected)
    sign = 1.0 if scorer.lower_is_better else -1.0
    segments = result.segments or []
    order = sorted(range(len(segments)), key=lambda i: (sign * segments[i].score, i))
    position = {i: n for n, i in enumerate(order, start=1)}
    ranks = [
        min((position[i] for i, s in enumerate(segments) if s.start <= a and s.end >= b), default=None)
        for a, b in haystack.needle_spans
    ]
    return SuiteRow(
        needle=needle.id, kind=needle.kind, tokens=haystack.tokens, depth=haystack.depth, strategy="xl3m",
        scorer=scorer_name, selected=holds_all(kept, needle.needles), ranks=ranks, segments=len(segments),
        answered=needle.answered_by(result.answer), answer=result.answer, calls=ledger.calls,
        seconds=round(ledger.seconds, 3), load=load_average(),
    )


def chain_cell(needle: SuiteNeedle, haystack: SuiteHaystack, model: Model, settings: Settings) -> SuiteRow:
    """Chain-of-Agents reads everything: did every needle sentence reach the final notes
    (the workers' verbatim evidence), and does the answer hold the gold answer?"""
    from ...api import ask

    document = Document.from_text(haystack.text, path=f"haystack-{needle.id}-{haystack.tokens}-{haystack.depth:g}.txt")
    started = time.perf_counter()
    result = ask(document, needle.question, strategy="chain", settings=settings, model=model)
    return SuiteRow(
        needle=needle.id, kind=needle.kind, tokens=haystack.tokens, depth=haystack.depth, strategy="chain",
        selected=bool(result.notes) and holds_all(result.notes[-1], needle.needles),
        answered=needle.answered_by(result.answer), answer=result.answer, calls=result.usage.calls,
        seconds=round(time.perf_counter() - started, 3), load=load_average(),
    )


def run_select_cell(needle, haystack, scorers, shared, *, budget, warm=(), concurrency=2) -> list[SuiteRow]:
    """Synchronous `select_cell`."""
    return asyncio.run(select_cell(needle, haystack, scorers, shared, budget=budget, warm=warm, concurrency=concurrency))


# --------------------------------------------------------------------------- rows file


def read_rows(path: Path | None) -> list[SuiteRow]:
    """The rows already in a JSONL rows file (none when it does not exist)."""
    if path is None or not path.exists():
        return []
    rows = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if line.strip():
            try:
                rows.append(SuiteRow.model_validate(json.loads(line)))
            except ValueError as exc:
                raise SourceError(f"line {number} is not a suite row: {exc}", path=path) from exc
    return rows


def append_rows(path: Path | None, rows: Iterable[SuiteRow]) -> None:
    if path is None:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as out:
        for row in rows:
            out.write(row.model_dump_json() + "\n")
