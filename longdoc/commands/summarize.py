"""`longdoc summarize PATH`: summarize a book, a document or a whole repository."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def register(app: typer.Typer) -> None:
    @app.command("summarize")
    def summarize_command(
        ctx: typer.Context,
        path: Annotated[Path, typer.Argument(help="A file or directory to summarize.")],
        words: Annotated[
            int | None, typer.Option("--words", min=10, help="About how many words (default 200).")
        ] = None,
        focus: Annotated[str | None, typer.Option("--focus", help="What to pay most attention to.")] = None,
        strategy: Annotated[
            str, typer.Option("--strategy", help="chain (default) or hierarchical.")
        ] = "chain",
        dry_run: Annotated[
            bool, typer.Option("--dry-run", help="Show chunks, calls and prompt tokens; call no model.")
        ] = False,
        trace: Annotated[bool, typer.Option("--trace", help="Also show every worker's notes.")] = False,
        budget: Annotated[
            int | None,
            typer.Option(
                "--budget", min=0,
                help="Document tokens a repository summary reads (docs, outline and file heads "
                "first); default 8000 on the embedded model, all elsewhere; 0 = all.",
            ),
        ] = None,
    ) -> None:
        """Summarize PATH: a book keeps its events, characters and arguments; a repository its
        modules, responsibilities, public APIs and how they connect."""
        from .. import api
        from ..cli import cli_context
        from .reading import ProgressPrinter, plan_json, print_plan, show_result

        c = cli_context(ctx)
        if strategy not in ("chain", "hierarchical"):
            raise typer.BadParameter(f"unknown strategy {strategy!r}", param_hint="--strategy")
        if dry_run:
            plan = api.plan(
                path, words=words, focus=focus, strategy=strategy, settings=c.settings, budget=budget
            )
            c.emit_json(plan_json(plan)) if c.json else print_plan(c.out, plan)
            return
        result = api.summarize(
            path, words=words, focus=focus, strategy=strategy, settings=c.settings,
            progress=ProgressPrinter(c.err), budget=budget,
        )
        show_result(c, result, trace=trace)
