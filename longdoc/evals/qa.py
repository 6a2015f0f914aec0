"""The long-document QA harness: every strategy answers the same questions with the same model
and window; answers are scored (exact match, F1, choice accuracy, evidence recall) and each
finished (question, strategy) row is appended to a JSONL file, so a rerun resumes."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from pydantic import BaseModel

from ..config import DEFAULT_SCORER, Settings
from ..documents import Document
from ..errors import ConfigError, ContextLengthExceeded, EmptyResponse, PipelineError
from ..llm.base import Model
from ..llm.profiles import profile_of
from ..results import AnswerResult
from ..tokens import get_encoding, token_counter
from .metrics import (
    choice_accuracy,
    evidence_recall,
    exact_match,
    f1,
    holds_gold,
    mean,
    parse_options,
)
from .qa_data import QAItem

STRATEGIES: tuple[str, ...] = ("chain", "hierarchical", "xl3m", "truncate")
TRUNCATE_PROMPT = "qa_truncate"


class QARow(BaseModel):
    """One strategy's answer to one question, scored."""

    id: str
    strategy: str
    model: str
    window: int
    status: str
    """`ok`; `too_long` when the strategy could not fit the document in the window (reported,
    never cut); `failed` when its pipeline gave up or the model answered nothing."""
    error: str | None = None
    question: str
    answer: str = ""
    gold: list[str]
    exact_match: float | None = None
    f1: float | None = None
    accuracy: float | None = None
    evidence_recall: float | None = None
    answer_or_evidence: float | None = None
    """1.0 when the answer or the evidence shown under it holds a gold answer: what a
    reader of the result sees, even when a weak model garbles what the pipeline found."""
    profile: str = "base"
    grounded: bool | None = None
    fallback: bool = False
    raw_answer: str | None = None
    document_tokens: int
    kept_fraction: float | None = None
    """truncate only: the share of the document's tokens that fit the window."""
    calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    seconds: float = 0.0

    def key(self) -> tuple[str, str, str, int, str]:
        return (self.id, self.strategy, self.model, self.window, self.profile)


class StrategySummary(BaseModel):
    """Means over the questions a strategy answered; totals of its cost."""

    questions: int
    answered: int
    too_long: int
    failed: int
    exact_match: float | None
    f1: float | None
    accuracy: float | None
    evidence_recall: float | None
    answer_or_evidence: float | None = None
    calls: int
    prompt_tokens: int
    seconds: float


# --------------------------------------------------------------------------- strategies


def truncate_answer(document: Document, question: str, model: Model, window: int) -> tuple[AnswerResult, str, float]:
    """The baseline: as much of the document as fits the window after the prompt, question
    and answer reserve, from its start; one call. Returns the result, the kept text and the
    share of the document's tokens kept."""
    from ..agents.evidence import select_evidence
    from ..agents.manager import ManagerAgent
    from ..agents.notes import NoteEntry, Notes
    from ..documents import Chunk
    from ..llm.profiles import profile_of
    from ..pipelines.chain.budget import MANAGER_OUTPUT_QUESTION
    from ..pipelines.xl3m import FALLBACK_SENTENCES, best_evidence, key_context_budget
    from ..prompts import load_prompt

    started = time.perf_counter()
    reserve = MANAGER_OUTPUT_QUESTION + profile_of(model).reasoning_tokens
    budget = key_context_budget(window, question, answer_tokens=reserve, prompt=TRUNCATE_PROMPT)
    encoding = get_encoding()
    ids = encoding.encode_ordinary(document.text)
    kept_ids = ids[:budget]
    kept = encoding.decode(kept_ids)
    count = token_counter()
    manager = ManagerAgent(
        model, mode="question", max_tokens=MANAGER_OUTPUT_QUESTION, counter=count,
        notes_cap=max(len(kept_ids), 1), window=window, template=load_prompt(TRUNCATE_PROMPT),
    )
    # One entry, so the manager reads the kept text like any notes; its evidence is the
    # kept text's sentences nearest the question (what `evidence` shows, and a base
    # model's fallback quotes), never the whole text.
    lines = (1, max(1, kept.count("\n") + 1))
    kept_chunk = Chunk(doc_id=document.id, index=0, start=0, end=len(kept), text=kept, tokens=len(kept_ids),
                       lines=lines, meta={"path": document.name})
    evidence = select_evidence(kept_chunk, mode="question", query=question, limit=FALLBACK_SENTENCES)
    entry = NoteEntry(chunk=0, source=document.name, lines=lines, relevance=1.0, evidence=tuple(evidence))
    notes = Notes(entries=(entry,), text=kept, tokens=count(kept) if kept else 0)
    answer = manager.run([notes], question=question)
    result = AnswerResult(
        answer=answer.answer, strategy="truncate", chunks=1, notes=[kept], profile=profile_of(model).name,
        grounded=answer.grounded, fallback=answer.fallback, raw_answer=answer.raw,
        evidence=best_evidence(notes),
    )
    result.usage.add(answer.completion)
    result.timings["total_s"] = round(time.perf_counter() - started, 3)
    return result, kept, len(kept_ids) / max(1, len(ids))


def run_strategy(
    strategy: str, item: QAItem, model: Model, *, settings: Settings, window: int, scorer: str = DEFAULT_SCORER
) -> tuple[AnswerResult, str | None, float | None]:
    """(result, evidence text the answer was written from, kept fraction for truncate)."""
    document = Document.from_text(item.context, path=item.document_id)
    if strategy == "truncate":
        result, kept, fraction = truncate_answer(document, item.question, model, window)
        return result, kept, fraction
    if strategy == "xl3m":
        from ..pipelines.xl3m import xl3m
        from ..retrieval.scorers import make_scorer

        chosen = make_scorer(scorer, model, concurrency=settings.concurrency)
        result = xl3m([document], item.question, model, chosen, window=window)
        return result, result.notes[0] if result.notes else "", None
    if strategy in ("chain", "hierarchical"):
        from ..api import ask

        run_settings = settings.model_copy(update={"window": window})
        result = ask(document, item.question, strategy=strategy, settings=run_settings, model=model)
        if not result.notes:
            return result, "", None
        evidence = result.notes[-1] if strategy == "chain" else "\n".join(result.notes)
        return result, evidence, None
    raise ConfigError(f"unknown strategy {strategy!r}; choose from {', '.join(STRATEGIES)}")


def score_row(
    item: QAItem, strategy: str, model: Model, *, settings: Settings, window: int, scorer: str = DEFAULT_SCORER
) -> QARow:
    """Answer one question with one strategy and score it; a document too long for the
    strategy becomes a `too_long` row, not an exception."""
    base = {
        "id": item.id, "strategy": strategy, "model": model.name, "window": window,
        "profile": profile_of(model).name,
        "question": item.question, "gold": list(item.answers),
        "document_tokens": token_counter()(item.context),
    }
    started = time.perf_counter()
    try:
        result, evidence, fraction = run_strategy(strategy, item, model, settings=settings, window=window, scorer=scorer)
    except ContextLengthExceeded as exc:
        return QARow(**base, status="too_long", error=str(exc), seconds=round(time.perf_counter() - started, 3))
    except (PipelineError, ConfigError, EmptyResponse) as exc:
        return QARow(**base, status="failed", error=str(exc), seconds=round(time.perf_counter() - started, 3))
    multiple_choice = bool(parse_options(item.question))
    accuracy = choice_accuracy(result.answer, item.answers[0], item.question) if multiple_choice else None
    return QARow(
        **base,
        status="ok",
        answer=result.answer,
        exact_match=None if multiple_choice else exact_match(result.answer, item.answers),
        f1=None if multiple_choice else round(f1(result.answer, item.answers), 4),
        accuracy=accuracy,
        evidence_recall=evidence_recall(item.answers, item.context, evidence),
        answer_or_evidence=holds_gold([result.answer, *(q.text for q in result.evidence)], item.answers, item.question),
        grounded=result.grounded,
        fallback=result.fallback,
        raw_answer=result.raw_answer,
        kept_fraction=round(fraction, 4) if fraction is not None else None,
        calls=result.usage.calls,
        prompt_tokens=result.usage.prompt_tokens,
        completion_tokens=result.usage.completion_tokens,
        seconds=round(time.perf_counter() - started, 3),
    )


# --------------------------------------------------------------------------- the run


def read_rows(path: Path | None) -> list[QARow]:
    """Rows already written to `path` (a torn last line from a killed run is ignored)."""
    if path is None or not path.exists():
        return []
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        try:
            rows.append(QARow.model_validate_json(line))
        except ValueError:
            continue
    return rows


def append_row(path: Path, row: QARow) -> None:
    """One JSON line, flushed and synced, so a killed run loses at most the row in flight."""
    with path.open("a", encoding="utf-8") as out:
        out.write(row.model_dump_json() + "\n")
        out.flush()
        os.fsync(out.fileno())


def _repair_tail(path: Path) -> None:
    """Drop a torn last line so the next append starts on a line of its own."""
    if path.exists() and path.stat().st_size:
        data = path.read_bytes()
        if not data.endswith(b"\n"):
            path.write_bytes(data[: data.rfind(b"\n") + 1])


def run_qa(
    items: Sequence[QAItem],
    strategies: Sequence[str],
    model: Model,
    *,
    settings: Settings,
    window: int,
    scorer: str = DEFAULT_SCORER,
    out: Path | None = None,
    progress: Callable[[int, int, QARow, bool], None] | None = None,
) -> list[QARow]:
    """Every (question, strategy) row, in question order; rows already in `out` for the same
    model and window are reused, new ones appended as they finish."""
    unknown = [s for s in strategies if s not in STRATEGIES]
    if unknown:
        raise ConfigError(f"unknown strategy {', '.join(unknown)}; choose from {', '.join(STRATEGIES)}")
    if out is not None:
        _repair_tail(out)
    finished = {row.key(): row for row in read_rows(out)}
    rows: list[QARow] = []
    total = len(items) * len(strategies)
    for item in items:
        for strategy in strategies:
            key = (item.id, strategy, model.name, window, profile_of(model).name)
            row = finished.get(key)
            resumed = row is not None
            if row is None:
                row = score_row(item, strategy, model, settings=settings, window=window, scorer=scorer)
                if out is not None:
                    append_row(out, row)
            rows.append(row)
            if progress is not None:
                progress(len(rows), total, row, resumed)
    return rows


def summarize_rows(rows: Iterable[QARow], strategies: Sequence[str]) -> dict[str, StrategySummary]:
    """Per strategy: mean scores over answered questions (None where no question had the
    metric), questions too long or failed, and summed calls, prompt tokens and seconds."""
    by_strategy: dict[str, list[QARow]] = {s: [] for s in strategies}
    for row in rows:
        by_strategy.setdefault(row.strategy, []).append(row)
    summaries = {}
    for name in strategies:
        mine = by_strategy.get(name, [])
        ok = [r for r in mine if r.status == "ok"]

        def avg(field: str, ok: list[QARow] = ok) -> float | None:
            value = mean([getattr(r, field) for r in ok])
            return round(value, 4) if value is not None else None

        summaries[name] = StrategySummary(
            questions=len(mine),
            answered=len(ok),
            too_long=sum(r.status == "too_long" for r in mine),
            failed=sum(r.status == "failed" for r in mine),
            exact_match=avg("exact_match"),
            f1=avg("f1"),
            accuracy=avg("accuracy"),
            evidence_recall=avg("evidence_recall"),
            answer_or_evidence=avg("answer_or_evidence"),
            calls=sum(r.calls for r in mine),
            prompt_tokens=sum(r.prompt_tokens for r in mine),
            seconds=round(sum(r.seconds for r in mine), 3),
        )
    return summaries

