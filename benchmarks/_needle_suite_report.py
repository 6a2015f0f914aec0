"""The needle-suite section of RESULTS.md, written from the rows of a sweep: every scorer on
the same model-scored sample of cells (per scorer, per needle kind, per length), the model-
free scorers over the full grid, the xl3m answers and the chain's evidence."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from _results import markdown_table

from longdoc.evals.needles.cells import SuiteRow
from longdoc.evals.needles.suite import KINDS, SuiteNeedle
from longdoc.evals.needles.summary import ScorerSummary, percent, selection_rows, summarize


def _cell(row: SuiteRow) -> tuple:
    return (row.needle, row.tokens, row.depth)


def common_cells(rows: Sequence[SuiteRow], names: Sequence[str]) -> set[tuple]:
    """Cells every scorer of `names` ran (selection)."""
    cells = None
    for name in names:
        mine = {_cell(r) for r in rows if r.strategy == "select" and r.scorer == name}
        cells = mine if cells is None else cells & mine
    return cells or set()


def _grid_text(cells: set[tuple]) -> str:
    """The sample, as `tokens@depth: needle ids` lines."""
    groups: dict[tuple, list[str]] = {}
    for needle, tokens, depth in cells:
        groups.setdefault((tokens, depth), []).append(needle)
    return "; ".join(
        f"{tokens // 1000}k at depth {depth:g} ({len(ids)} needles{': ' + ', '.join(sorted(ids)) if len(ids) < 10 else ''})"
        for (tokens, depth), ids in sorted(groups.items())
    )


def _scorer_table(summaries: list[ScorerSummary]) -> str:
    rows = []
    for s in sorted(summaries, key=lambda s: (-s.recall, s.calls)):
        para = s.by_kind.get("paraphrase", (0, 0))
        rest = (s.selected - para[0], s.cells - para[1])
        rows.append([s.name, percent(s.selected, s.cells), percent(*para), percent(*rest),
                     "-" if s.mean_rank is None else s.mean_rank, s.calls, s.seconds])
    return markdown_table(
        ["scorer", "selected (all cells)", "paraphrase", "other kinds", "mean rank", "calls/cell", "seconds/cell"], rows
    )


def _kind_table(summaries: list[ScorerSummary]) -> str:
    kinds = [k for k in KINDS if any(k in s.by_kind for s in summaries)]
    rows = [[s.name, *(percent(*s.by_kind[k]) if k in s.by_kind else "-" for k in kinds)]
            for s in sorted(summaries, key=lambda s: -s.recall)]
    return markdown_table(["scorer", *kinds], rows)


def _length_table(rows: Sequence[SuiteRow], names: Sequence[str]) -> str:
    lengths = sorted({r.tokens for r in rows})
    table = []
    for name in names:
        mine = [r for r in rows if r.scorer == name]
        table.append([name, *(percent(sum(r.selected for r in mine if r.tokens == n), sum(r.tokens == n for r in mine))
                              for n in lengths)])
    return markdown_table(["scorer", *(f"{n // 1000}k" for n in lengths)], table)


OFFLINE_FUSIONS = (("lexical", "certainty"), ("lexical", "answer"), ("expanded", "certainty"),
                   ("lexical", "certainty", "answer"))
OFFLINE_K = (60, 10, 1)


def offline_fusions(rows: Sequence[SuiteRow], needles: Sequence[SuiteNeedle], window: int) -> str:
    """Fusions (members x k) recomputed from the single scorers' recorded segment scores, on
    the cells where every member's scores were recorded."""
    from longdoc.evals.needle import load_essays
    from longdoc.evals.needles.refusion import fused_row, lexical_row
    from longdoc.evals.needles.sweep import key_budget

    question = {n.id: n.question for n in needles}
    scored: dict[tuple, dict[str, SuiteRow]] = {}
    for r in rows:
        if r.strategy == "select" and r.scores is not None:
            scored.setdefault(_cell(r), {})[r.scorer or ""] = r
    by_id = {n.id: n for n in needles}
    essays = load_essays() if any("lexical" not in by for by in scored.values()) else ""
    for (needle, tokens, depth), by in scored.items():  # BM25 needs no model: recompute its scores
        if "lexical" not in by:
            by["lexical"] = lexical_row(by_id[needle], essays, tokens=tokens, depth=depth, window=window)
    table = []
    cells_used = set()
    for members in OFFLINE_FUSIONS:
        cells = {c: by for c, by in scored.items() if all(m in by for m in members)}
        if not cells:
            continue
        cells_used |= set(cells)
        for k in OFFLINE_K:
            fused = [fused_row([by[m] for m in members], k=k, name="+".join(members),
                               budget=key_budget(window, question[c[0]])) for c, by in cells.items()]
            para = [r for r in fused if r.kind == "paraphrase"]
            rest = [r for r in fused if r.kind != "paraphrase"]
            table.append(["+".join(members), k, percent(sum(r.selected for r in fused), len(fused)),
                          percent(sum(r.selected for r in para), len(para)),
                          percent(sum(r.selected for r in rest), len(rest))])
        for m in members:
            if not any(row[0] == m for row in table):
                mine = [by[m] for by in cells.values()]
                para = [r for r in mine if r.kind == "paraphrase"]
                rest = [r for r in mine if r.kind != "paraphrase"]
                table.append([m, "-", percent(sum(r.selected for r in mine), len(mine)),
                              percent(sum(r.selected for r in para), len(para)),
                              percent(sum(r.selected for r in rest), len(rest))])
    if not table:
        return ""
    return (
        f"**Fusions recomputed from the recorded segment scores** ({len(cells_used)} cells: {_grid_text(cells_used)}; "
        "a fusion's selection depends only on its members' scores, so members and the RRF constant k can be "
        "compared without another model call; k = 60 is the paper's and `fusion`'s default, a small k lets "
        "each member's first ranks decide). Members alone are listed once for reference.\n\n"
        + markdown_table(["fusion", "k", "selected", "paraphrase", "other kinds"], table)
    )


def model_free(name: str) -> bool:
    """Scorers that call no model but once per question (expanded's guess): their cells cover
    the whole grid, not a sample."""
    from longdoc.retrieval.scorers import parse_scorer

    base, members = parse_scorer(name)
    return all(m in ("lexical", "expanded", "dense") for m in members) if base == "fusion" else base in (
        "lexical", "expanded", "dense")


def _loads(rows: Sequence[SuiteRow]) -> str:
    loads = [r.load for r in rows if r.load is not None]
    return f"{min(loads):.1f}-{max(loads):.1f}" if loads else "-"


def report(rows: Sequence[SuiteRow], needles: Sequence[SuiteNeedle], args: argparse.Namespace) -> str:
    selection = [r for r in selection_rows(rows) if r.strategy == "select"]
    scorers = sorted({r.scorer for r in selection if r.scorer})
    sample = common_cells(selection, scorers)
    sample_rows = [r for r in selection if _cell(r) in sample]
    parts = []
    kinds = {k: sum(n.kind == k for n in needles) for k in KINDS}
    parts.append(
        f"The suite: {len(needles)} needles written for it (benchmarks/needles/suite), "
        + ", ".join(f"{v} {k}" for k, v in kinds.items() if v)
        + ", hidden in the shared Paul Graham essays; a multi-needle item's second sentence goes half the text "
        "away, distractors (same wording, wrong answer) 35% and 70% away. Embedded Gemma 3 270M (base, Q4_K_M, "
        f"llama.cpp) on the shared 2-core machine under the model lock (1-minute load average {_loads(rows)} at "
        "the cells' ends: other jobs (tests, model-free benchmarks) shared the cores at times, so seconds are "
        "those of a loaded machine). "
        f"Agent window {args.window} tokens: the key context holds about 4 segments of 384 tokens. "
        + (args.note.strip() + " " if args.note.strip() else "")
        + "`selected` = every needle sentence is whole in the key context; `mean rank` = rank of the segment "
        "holding a needle sentence among all segments (1 = most relevant)."
    )
    if sample and not all(model_free(name) for name in scorers):
        summaries = summarize(sample_rows, kinds=KINDS)
        parts.append(
            f"**Every scorer on the same sample** ({len(sample)} cells: {_grid_text(sample)}). Model-scored cells "
            "are a stratified sample because certainty reads every segment (the grid below has all 340 cells for "
            "the model-free scorers). Calls for one segment were sent back to back and shared between scorers "
            "(`SharedCalls`: a request asked by two scorers is sent once and charged to both, with its measured "
            "seconds); the first paragraph says what that does to seconds.\n\n"
            + _scorer_table(summaries) + "\n\n**Per needle kind** (same sample):\n\n" + _kind_table(summaries)
        )
    offline = offline_fusions(selection, needles, args.window)
    if offline:
        parts.append(offline)
    full = [r for r in selection if r.scorer and model_free(r.scorer)]
    if full:
        free = sorted({r.scorer for r in full})
        summaries = summarize(full, kinds=KINDS)
        parts.append(
            f"**Model-free scorers over the full grid** ({len({_cell(r) for r in full})} cells: every needle at "
            f"{', '.join(str(n // 1000) + 'k' for n in sorted({r.tokens for r in full}))} tokens and depths "
            f"{', '.join(f'{d:g}' for d in sorted({r.depth for r in full}))}; expanded makes one call per question, "
            "kept for the question's later cells; seconds count model calls only, the sentence encoder's CPU time "
            "is measured in section selection-nq):\n\n"
            + _scorer_table(summaries) + "\n\n" + _kind_table(summaries) + "\n\nPer length:\n\n"
            + _length_table(full, free)
        )
    answers = [r for r in rows if r.strategy == "xl3m"]
    if answers:
        table = []
        for name in sorted({r.scorer for r in answers}):
            mine = [r for r in answers if r.scorer == name]
            table.append([f"xl3m:{name}", len(mine), percent(sum(r.selected for r in mine), len(mine)),
                          percent(sum(bool(r.answered) for r in mine), len(mine)),
                          round(sum(r.calls for r in mine) / len(mine), 1), round(sum(r.seconds for r in mine) / len(mine), 1)])
        parts.append(
            "**End to end** (select, then the manager answers; `answered` = the answer holds every gold answer "
            "part):\n\n" + markdown_table(["run", "cells", "selected", "answered", "calls", "seconds"], table)
        )
    chain = [r for r in rows if r.strategy == "chain"]
    if chain:
        by_kind = [[k, percent(sum(r.selected for r in chain if r.kind == k), sum(r.kind == k for r in chain)),
                    percent(sum(bool(r.answered) for r in chain if r.kind == k), sum(r.kind == k for r in chain))]
                   for k in KINDS if any(r.kind == k for r in chain)]
        by_kind.append(["all", percent(sum(r.selected for r in chain), len(chain)),
                        percent(sum(bool(r.answered) for r in chain), len(chain))])
        cells = {_cell(r) for r in chain}
        parts.append(
            f"**Chain's evidence** ({len(chain)} cells: {_grid_text(cells)}): `in final notes` = every needle "
            "sentence reached the last worker's notes verbatim (the sentences a worker keeps); mean "
            f"{sum(r.calls for r in chain) / len(chain):.1f} calls and {sum(r.seconds for r in chain) / len(chain):.0f} s "
            "per cell.\n\n" + markdown_table(["kind", "in final notes", "answered"], by_kind)
        )
    standalone = getattr(args, "standalone_rows", None)
    if standalone is not None and standalone.exists():
        from longdoc.evals.needles.cells import read_rows

        alone = [r for r in read_rows(standalone) if r.strategy == "select"]
        table = [[r.scorer, f"{r.needle} {r.tokens // 1000}k depth {r.depth:g}", r.segments, r.calls, round(r.seconds, 1),
                  round(r.seconds / r.segments, 2) if r.segments else "-", r.load] for r in alone]
        parts.append(
            "**Standalone cost** (each scorer alone on one cell, in a process of its own: a fresh server, no "
            "request shared; seconds are the sum of call latencies, two calls in flight):\n\n"
            + markdown_table(["scorer", "cell", "segments", "calls", "seconds", "s/segment", "load"], table)
        )
    parts.append("Command: `" + " ".join(getattr(args, "command_line", []) or ["benchmarks/bench_needle_suite.py"]) + "`")
    return "\n\n".join(parts)
