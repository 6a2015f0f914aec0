"""`longdoc ask PATH QUESTION`: answer a question about files, a repository or a book."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..config import DEFAULT_SCORER

STRATEGY_HELP = (
    "chain (Chain-of-Agents, default), hierarchical (groups read concurrently) or xl3m "
    "(the most relevant segments, see --scorer)."
)
SCORER_HELP = (
    f"For xl3m: {DEFAULT_SCORER} (default: BM25 and sentence-encoder ranks fused, no model call), or "
    "any of lexical (BM25), dense (sentence encoder), certainty (model entropy), hybrid, answer, "
    "calibrated, expanded, fusion, fusion=a+b (see README)."
)


def register(app: typer.Typer) -> None:
    @app.command("ask")
    def ask_command(
        ctx: typer.Context,
        path: Annotated[Path, typer.Argument(help="A file or directory to read.")],
        question: Annotated[str, typer.Argument(help="The question to answer.")],
        strategy: Annotated[str, typer.Option("--strategy", help=STRATEGY_HELP)] = "chain",
        dry_run: Annotated[
            bool, typer.Option("--dry-run", help="Show chunks, calls and prompt tokens; call no model.")
        ] = False,
        trace: Annotated[bool, typer.Option("--trace", help="Also show every worker's notes.")] = False,
        scorer: Annotated[str, typer.Option("--scorer", help=SCORER_HELP)] = DEFAULT_SCORER,
    ) -> None:
        """Answer QUESTION from PATH: workers read it in order, a manager answers from their notes."""
        from .. import api
        from ..cli import cli_context
        from ..errors import ConfigError
        from ..retrieval.scorers import parse_scorer
        from .reading import ProgressPrinter, plan_json, print_plan, show_result

        c = cli_context(ctx)
        if strategy not in ("chain", "hierarchical", "xl3m"):
            raise typer.BadParameter(f"unknown strategy {strategy!r}", param_hint="--strategy")
        try:
            parse_scorer(scorer)
        except ConfigError as exc:
            raise typer.BadParameter(str(exc), param_hint="--scorer") from None
        if dry_run:
            plan = api.plan(path, question=question, strategy=strategy, settings=c.settings, scorer=scorer)
            c.emit_json(plan_json(plan)) if c.json else print_plan(c.out, plan)
            return
        result = api.ask(
            path, question, strategy=strategy, settings=c.settings, progress=ProgressPrinter(c.err),
            scorer=scorer,
        )
        show_result(c, result, trace=trace)
