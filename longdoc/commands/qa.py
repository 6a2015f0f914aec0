"""`longdoc eval qa FILE.jsonl`: long-document QA strategies side by side, same model and window."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..config import DEFAULT_SCORER
from .eval import eval_app
from .needle import name_list


@eval_app.command("qa")
def qa_command(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="L-Eval JSONL (input, instructions, outputs) or {context, question, answers} JSONL.")],
    strategy: Annotated[str, typer.Option("--strategy", help="Comma-separated: chain, hierarchical, xl3m, truncate.")] = "chain,hierarchical,xl3m,truncate",
    limit: Annotated[int | None, typer.Option("--limit", min=1, help="Only the first N questions.")] = None,
    scorer: Annotated[str, typer.Option("--scorer", help="Segment scorer for xl3m (see `longdoc ask --help`).")] = DEFAULT_SCORER,
    out: Annotated[Path | None, typer.Option("--out", help="Per-question rows (JSONL); a rerun skips rows already there.")] = None,
) -> None:
    """Answer every question with each strategy (the global --window sets the window for all of
    them) and compare exact match, F1, choice accuracy, evidence recall, calls, tokens, time."""
    from rich.table import Table

    from ..cli import cli_context
    from ..errors import ConfigError
    from ..evals.qa import STRATEGIES, QARow, run_qa, summarize_rows
    from ..evals.qa_data import load_qa
    from ..llm import load_model
    from ..llm.profiles import profile_of
    from ..retrieval.scorers import parse_scorer

    c = cli_context(ctx)
    strategies = name_list(strategy, STRATEGIES, option="--strategy")
    try:
        parse_scorer(scorer)
    except ConfigError as exc:
        raise typer.BadParameter(str(exc), param_hint="--scorer") from None
    items = load_qa(file, limit=limit)
    model = load_model(c.settings)
    window = c.settings.window or model.context_window

    def progress(done: int, total: int, row: QARow, resumed: bool) -> None:
        state = "kept from --out" if resumed else f"{row.status}, {row.seconds:.1f}s"
        c.err.print(f"[dim]{done}/{total}[/] question {row.id} {row.strategy}: {state}", highlight=False)

    rows = run_qa(items, strategies, model, settings=c.settings, window=window, scorer=scorer, out=out, progress=progress)
    summary = summarize_rows(rows, strategies)
    if c.json:
        c.emit_json(
            {
                "file": str(file),
                "model": model.name,
                "profile": profile_of(model).name,
                "window": window,
                "strategies": {name: s.model_dump() for name, s in summary.items()},
                "questions": [r.model_dump() for r in rows],
            }
        )
        return

    def pct(value: float | None) -> str:
        return "-" if value is None else f"{100 * value:.1f}"

    table = Table(title=f"{file.name}: {len(items)} questions, {model.name}, window {window}")
    for header in ("strategy", "answered", "too long", "EM %", "F1 %", "accuracy %", "evidence %",
                   "answer or shown evidence %", "calls", "prompt tokens", "seconds"):
        table.add_column(header, justify="left" if header == "strategy" else "right")
    for name, s in summary.items():
        table.add_row(
            name, f"{s.answered}/{s.questions}", str(s.too_long), pct(s.exact_match), pct(s.f1),
            pct(s.accuracy), pct(s.evidence_recall), pct(s.answer_or_evidence), str(s.calls), f"{s.prompt_tokens:,}", f"{s.seconds:.1f}",
        )
    c.out.print(table)


def register(app: typer.Typer) -> None:
    """The command is added to `eval_app` on import; nothing else to register."""
