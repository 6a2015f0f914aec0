"""The suite sweep: every needle at every length and depth, selection by each scorer
(requests shared between scorers, see `SharedCalls`), optionally the xl3m answer and the
chain; rows appended to a JSONL file as they finish, and cells already there skipped."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from ...config import Settings
from ...llm.base import Model
from ...retrieval.scorers import SegmentScorer, make_scorer
from .cells import (
    SuiteRow,
    answer_cell,
    append_rows,
    cell_key,
    chain_cell,
    read_rows,
    run_select_cell,
)
from .placement import build_suite_haystack
from .shared_calls import SharedCalls
from .suite import SuiteNeedle

WARM_ORDER = ("calibrated", "answer", "certainty")
"""Per-segment scorers sent back to back per segment, shortest prompt first: the calibrated
baseline (the segment alone), then its scored call (segment + question, which extends it),
then `certainty` (the same prompt again, longer reply). llama.cpp reuses a slot's cached
prompt when the next prompt extends it or repeats it, but not when it is a prefix of it
(Gemma 3's sliding-window layers cannot be cut back), so this order reads each segment
once: measured on the embedded model, 3.4 s / 0.6 s / 0.8 s per segment in this order, and
3.5 s / 0.4 s / 3.3 s with the baseline last."""


def key_budget(window: int, question: str) -> int:
    from ...pipelines.xl3m import key_context_budget

    return key_context_budget(window, question)


def build_scorers(names: Sequence[str], model: Model | None, concurrency: int) -> dict[str, SegmentScorer]:
    """One scorer per name, kept for the whole sweep (the calibrated baselines and the
    expansion guesses are remembered across cells, as across questions in real use)."""
    return {name: make_scorer(name, model, concurrency=concurrency) for name in names}


def run_suite(
    needles: Sequence[SuiteNeedle],
    essays: str,
    *,
    lengths: Sequence[int],
    depths: Sequence[float],
    scorers: Sequence[str],
    model: Model,
    settings: Settings,
    window: int | None,
    answer_scorers: Sequence[str] = (),
    chain: bool = False,
    rows_path: Path | None = None,
    progress: Callable[[str], None] | None = None,
) -> list[SuiteRow]:
    """Every cell of needles x lengths x depths not yet in `rows_path`; returns all rows
    (those read back and the new ones). `window`: the agent window (None: the model's)."""
    window = window or model.context_window
    rows = read_rows(rows_path)
    done = {row.key() for row in rows}
    shared = SharedCalls(model)
    concurrency = settings.concurrency
    built = build_scorers(scorers, shared, concurrency)
    warm = [name for name in WARM_ORDER if name in built]
    for needle in needles:
        for tokens in lengths:
            for depth in depths:
                new = _one_haystack(
                    needle, essays, tokens, depth, done, built, shared, model=model, settings=settings,
                    window=window, answer_scorers=answer_scorers, chain=chain, warm=warm, progress=progress,
                )
                append_rows(rows_path, new)
                rows += new
                done |= {row.key() for row in new}
    return rows


def _one_haystack(
    needle: SuiteNeedle,
    essays: str,
    tokens: int,
    depth: float,
    done: set[tuple],
    built: dict[str, SegmentScorer],
    shared: SharedCalls,
    *,
    model: Model,
    settings: Settings,
    window: int,
    answer_scorers: Sequence[str],
    chain: bool,
    warm: Sequence[str],
    progress: Callable[[str], None] | None,
) -> list[SuiteRow]:
    """The rows of one haystack not in `done`: selection by the scorers, answers, chain."""
    say = progress or (lambda message: None)
    where = f"{needle.id} {tokens} tokens depth {depth:g}"
    todo = {n: s for n, s in built.items() if cell_key(needle.id, tokens, depth, "select", n) not in done}
    answers = [n for n in answer_scorers if cell_key(needle.id, tokens, depth, "xl3m", n) not in done]
    chained = chain and cell_key(needle.id, tokens, depth, "chain", None) not in done
    if not (todo or answers or chained):
        return []
    stack = build_suite_haystack(essays, needle, tokens=tokens, depth=depth)
    shared.forget()  # a cell pays for its own reads
    concurrency = settings.concurrency
    new: list[SuiteRow] = []
    if todo:
        say(f"{where}: select {', '.join(todo)}")
        new += run_select_cell(
            needle, stack, todo, shared, budget=key_budget(window, needle.question),
            warm=[n for n in warm if n in todo], concurrency=concurrency,
        )
    for name in answers:
        say(f"{where}: xl3m answer with {name}")
        new.append(answer_cell(needle, stack, name, shared, window=window, scorer=built.get(name), concurrency=concurrency))
    if chained:
        say(f"{where}: chain")
        new.append(chain_cell(needle, stack, model, settings))
    for row in new:
        row.tokens, row.depth = tokens, float(depth)  # the asked-for cell, for resuming
    return new
