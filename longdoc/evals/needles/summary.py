"""Summaries of suite rows: per scorer (selection recall, the needle's rank, answers, calls,
seconds) and per needle kind, as plain data for a table or JSON."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from pydantic import BaseModel

from .cells import SuiteRow


class ScorerSummary(BaseModel):
    """One scorer (or `chain`) over the cells it ran."""

    name: str
    cells: int
    selected: int
    mean_rank: float | None
    """Mean rank of the needle sentences' segments (those found in some segment)."""
    answered: int
    answer_cells: int
    calls: float
    seconds: float
    by_kind: dict[str, tuple[int, int]]
    """kind -> (selected, cells)."""

    @property
    def recall(self) -> float:
        return self.selected / self.cells if self.cells else 0.0


def label(row: SuiteRow) -> str:
    return row.scorer if row.strategy in ("select", "xl3m") and row.scorer else row.strategy


def selection_rows(rows: Iterable[SuiteRow]) -> list[SuiteRow]:
    """One row per (needle, length, depth, scorer) for selection: the selection-only row,
    else the end-to-end xl3m row (its selection is the same), plus the chain's rows."""
    chosen: dict[tuple, SuiteRow] = {}
    for row in rows:
        key = (row.needle, row.tokens, row.depth, label(row))
        if key not in chosen or (row.strategy == "select" and chosen[key].strategy == "xl3m"):
            chosen[key] = row
    return list(chosen.values())


def summarize(rows: Sequence[SuiteRow], *, kinds: Sequence[str] = ()) -> list[ScorerSummary]:
    """Per scorer (and `chain`), in name order."""
    selection = selection_rows(rows)
    answers = [r for r in rows if r.answered is not None]
    names = sorted({label(r) for r in selection} | {label(r) for r in answers})
    out = []
    for name in names:
        mine = [r for r in selection if label(r) == name]
        answered = [r for r in answers if label(r) == name]
        ranks = [rank for r in mine for rank in r.ranks if rank is not None]
        by_kind = {}
        for kind in kinds or sorted({r.kind for r in mine}):
            cells = [r for r in mine if r.kind == kind]
            if cells:
                by_kind[kind] = (sum(r.selected for r in cells), len(cells))
        timed = mine or answered
        out.append(ScorerSummary(
            name=name, cells=len(mine), selected=sum(r.selected for r in mine),
            mean_rank=round(sum(ranks) / len(ranks), 2) if ranks else None,
            answered=sum(bool(r.answered) for r in answered), answer_cells=len(answered),
            calls=round(sum(r.calls for r in timed) / len(timed), 1) if timed else 0.0,
            seconds=round(sum(r.seconds for r in timed) / len(timed), 2) if timed else 0.0,
            by_kind=by_kind,
        ))
    return out


def percent(part: int, whole: int) -> str:
    return f"{part}/{whole} ({100 * part / whole:.0f}%)" if whole else "-"
