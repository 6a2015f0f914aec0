"""`longdoc eval needle --suite DIR`: the needle suite over lengths and depths, a row per
cell and scorer, then a summary per scorer and per needle kind."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def run_suite_command(
    c: Any,
    suite: Path,
    lengths: list[int],
    depths: list[int],
    strategies: list[str],
    scorers: list[str],
    *,
    select_only: bool,
    rows: Path | None,
    essays_dir: Path | None,
) -> None:
    """Run the suite's cells not yet in `rows` (all of them without it) and print the rows
    and summaries (`--json`: one object with both)."""
    from rich.table import Table

    from ..evals.needle import load_essays
    from ..evals.needles.suite import KINDS, load_suite
    from ..evals.needles.summary import percent, summarize
    from ..evals.needles.sweep import run_suite
    from ..llm import load_model

    needles = load_suite(suite)
    essays = load_essays(essays_dir)
    model = load_model(c.settings)
    xl3m = "xl3m" in strategies
    found = run_suite(
        needles, essays, lengths=lengths, depths=depths, scorers=scorers if xl3m else [], model=model,
        settings=c.settings, window=c.settings.window, answer_scorers=scorers if xl3m and not select_only else [],
        chain="chain" in strategies, rows_path=rows, progress=lambda message: c.err.print(f"[dim]{message}[/]"),
    )
    ids = {n.id for n in needles}
    wanted = [r for r in found if r.needle in ids and r.tokens in lengths and r.depth in {float(d) for d in depths}]
    summaries = summarize(wanted, kinds=KINDS)
    if c.json:
        c.emit_json({
            "suite": str(suite),
            "rows": [r.model_dump() for r in wanted],
            "summary": [s.model_dump() | {"recall": round(s.recall, 4)} for s in summaries],
        })
        return
    table = Table(title=f"needle suite: {len(needles)} needles from {suite}")
    for header in ("needle", "kind", "tokens", "depth %", "run", "selected", "ranks", "answered", "calls", "seconds"):
        table.add_column(header)
    for r in wanted:
        table.add_row(
            r.needle, r.kind, str(r.tokens), f"{r.depth:g}", f"{r.strategy}:{r.scorer}" if r.scorer else r.strategy,
            "yes" if r.selected else "no", ",".join("-" if x is None else str(x) for x in r.ranks) or "-",
            "-" if r.answered is None else ("yes" if r.answered else "no"), str(r.calls), f"{r.seconds:.1f}",
        )
    c.out.print(table)
    per_scorer = Table(title="per scorer")
    for header in ("scorer", "selected", "mean rank", "answered", "calls", "seconds"):
        per_scorer.add_column(header)
    for s in summaries:
        per_scorer.add_row(
            s.name, percent(s.selected, s.cells), "-" if s.mean_rank is None else f"{s.mean_rank:g}",
            percent(s.answered, s.answer_cells), f"{s.calls:g}", f"{s.seconds:.1f}",
        )
    c.out.print(per_scorer)
    per_kind = Table(title="selected per needle kind")
    per_kind.add_column("scorer")
    kinds = [k for k in KINDS if any(k in s.by_kind for s in summaries)]
    for kind in kinds:
        per_kind.add_column(kind)
    for s in summaries:
        per_kind.add_row(s.name, *(percent(*s.by_kind[k]) if k in s.by_kind else "-" for k in kinds))
    c.out.print(per_kind)
