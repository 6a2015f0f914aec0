"""`longdoc batch ask|summarize PATH... -o OUT.jsonl`: one row per document of a corpus, resumable."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from ..errors import LongdocError

PATHS_HELP = "Files, or folders whose every file is a document (hidden ones skipped)."
OUTPUT_HELP = "The rows, JSON Lines (appended; a rerun skips the documents already there)."
PARALLEL_HELP = "Documents read at once (each with --concurrency model calls in flight)."
RAY_HELP = (
    "Read on Ray actors: alone, a local Ray runtime; with `auto` or ray://host:port, that "
    'cluster (pip install "longdoc[ray]").'
)


def _run(ctx: typer.Context, paths: list[Path], output: Path, task_fields: dict) -> None:
    from ..aio import run_sync
    from ..batch.documents import BatchTask
    from ..batch.run import BatchProgress, run_batch
    from ..cli import cli_context

    c = cli_context(ctx)
    err = c.err
    task = BatchTask(**task_fields)

    def on_progress(p: BatchProgress) -> None:
        err.print(
            f"[{p.skipped + p.finished}/{p.total}] answered {p.answered}, errors {p.errors}, "
            f"failed {p.failed}, {p.tokens:,} tokens",
            highlight=False,
            soft_wrap=True,
        )

    def on_failure(reason: str) -> None:
        err.print(f"[red]failed[/] {escape(reason)} (rerun to retry)", highlight=False, soft_wrap=True)

    report = run_sync(run_batch(paths, task, c.settings, output, on_progress=on_progress, on_failure=on_failure))
    if report.torn_bytes_repaired:
        err.print(f"repaired a torn last line in {output} ({report.torn_bytes_repaired} bytes cut)", soft_wrap=True)
    where = f"on {report.workers} Ray actor{'s' if report.workers != 1 else ''}" if task.ray else f"{report.workers} at once"
    err.print(
        f"done: {report.answered} answered, {report.errors} errors, {len(report.failed)} failed, "
        f"{report.skipped_done} already done, {report.seconds:.1f}s ({where})",
        highlight=False,
        soft_wrap=True,
    )
    if c.json:
        c.emit_json(report.model_dump())
    if report.failed:
        raise LongdocError(f"{len(report.failed)} documents failed; rerun the same command to finish them")


def register(app: typer.Typer) -> None:
    batch = typer.Typer(
        help="Ask or summarize every document of a corpus: one JSONL row each, resumable.",
        no_args_is_help=True,
    )
    app.add_typer(batch, name="batch")

    @batch.command("ask")
    def batch_ask(
        ctx: typer.Context,
        paths: Annotated[list[Path], typer.Argument(help=PATHS_HELP)],
        output: Annotated[Path, typer.Option("--output", "-o", help=OUTPUT_HELP)],
        question: Annotated[str, typer.Option("--question", help="The question asked of every document.")],
        strategy: Annotated[
            str, typer.Option("--strategy", help="chain (default), hierarchical or xl3m.")
        ] = "chain",
        parallel: Annotated[int, typer.Option("--parallel", min=1, help=PARALLEL_HELP)] = 4,
        ray: Annotated[str | None, typer.Option("--ray", metavar="[ADDRESS]", help=RAY_HELP)] = None,
    ) -> None:
        """Ask QUESTION of every document: rows {"id", "path", "answer", ...the fields of ask --json}."""
        if strategy not in ("chain", "hierarchical", "xl3m"):
            raise typer.BadParameter(f"unknown strategy {strategy!r}", param_hint="--strategy")
        _run(ctx, paths, output, {"mode": "ask", "question": question, "strategy": strategy, "parallel": parallel, "ray": ray})

    @batch.command("summarize")
    def batch_summarize(
        ctx: typer.Context,
        paths: Annotated[list[Path], typer.Argument(help=PATHS_HELP)],
        output: Annotated[Path, typer.Option("--output", "-o", help=OUTPUT_HELP)],
        words: Annotated[
            int | None, typer.Option("--words", min=10, help="About how many words (default 200).")
        ] = None,
        focus: Annotated[str | None, typer.Option("--focus", help="What to pay most attention to.")] = None,
        strategy: Annotated[str, typer.Option("--strategy", help="chain (default) or hierarchical.")] = "chain",
        budget: Annotated[
            int | None, typer.Option("--budget", min=0, help="Document tokens a repository summary reads.")
        ] = None,
        parallel: Annotated[int, typer.Option("--parallel", min=1, help=PARALLEL_HELP)] = 4,
        ray: Annotated[str | None, typer.Option("--ray", metavar="[ADDRESS]", help=RAY_HELP)] = None,
    ) -> None:
        """Summarize every document: rows {"id", "path", "answer", ...the fields of summarize --json}."""
        if strategy not in ("chain", "hierarchical"):
            raise typer.BadParameter(f"unknown strategy {strategy!r}", param_hint="--strategy")
        _run(
            ctx,
            paths,
            output,
            {"mode": "summarize", "words": words, "focus": focus, "strategy": strategy, "budget": budget,
             "parallel": parallel, "ray": ray},
        )
