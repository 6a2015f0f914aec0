"""`longdoc dataset`: generate a LongWriter-6k-style long-write dataset, crash-safe and resumable."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from ..agents.plan import SECTION_WORDS
from ..errors import LongdocError
from ..pipelines.dataset.options import MAX_REPETITION


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "?"
    seconds = int(seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{secs:02d}s"


def register(app: typer.Typer) -> None:
    @app.command("dataset")
    def dataset_command(
        ctx: typer.Context,
        prompts: Annotated[
            Path, typer.Argument(help="JSONL with `prompt` and optional `length`, or one prompt per line.")
        ],
        output: Annotated[Path, typer.Option("--output", "-o", help="The dataset, JSON Lines (appended).")],
        words: Annotated[
            int, typer.Option("--words", min=1, help="Target words for prompts without a `length`.")
        ] = 2000,
        with_meta: Annotated[
            bool, typer.Option("--with-meta", help="Add a `meta` object (plan, words, score, usage) to rows.")
        ] = False,
        min_length_score: Annotated[
            float,
            typer.Option("--min-length-score", min=0, max=100, help="Reject rows whose S_l is lower."),
        ] = 0.0,
        max_repetition: Annotated[
            float,
            typer.Option("--max-repetition", min=0.01, max=1.0, help="Reject rows with a larger share of repeated 4-grams."),
        ] = MAX_REPETITION,
        rejects: Annotated[
            Path | None, typer.Option("--rejects", help="Rejected rows with reasons (default OUT.rejects.jsonl).")
        ] = None,
        section_words: Annotated[
            int, typer.Option("--section-words", min=50, help="Words per planned section, roughly.")
        ] = SECTION_WORDS,
        processes: Annotated[
            int | None,
            typer.Option(
                "--processes",
                min=1,
                help="Worker processes to spread the prompts over (default: automatic, one per 16 "
                "of --concurrency against a remote endpoint, at most one per core).",
            ),
        ] = None,
        ray: Annotated[
            str | None,
            typer.Option(
                "--ray",
                metavar="[ADDRESS]",
                help="Write on Ray actors: alone, a local Ray runtime; with `auto` or ray://host:port, "
                'that cluster (pip install "longdoc[ray]").',
            ),
        ] = None,
    ) -> None:
        """Write every prompt with AgentWrite into a chat-format JSONL dataset.

        Rows: {"id", "messages": [user prompt, assistant text]} (+ "meta" with --with-meta).
        Several --base-url values, comma-separated, are used in turn. Rerunning skips rows
        already in OUT or in the rejects file and resumes half-written prompts."""
        from ..cli import cli_context
        from ..llm.factory import endpoint_urls, load_endpoints
        from ..pipelines.dataset.generate import DatasetProgress, generate_dataset, rejects_path_for
        from ..pipelines.dataset.input import PromptItem, read_prompts
        from ..pipelines.dataset.options import DatasetOptions

        c = cli_context(ctx)
        err = c.err
        items, bad = read_prompts(prompts, words)
        for error in bad:
            err.print(f"[yellow]skipped[/] {escape(str(error))}", highlight=False, soft_wrap=True)
        if not items:
            raise LongdocError(f"{prompts}: no prompts to write ({len(bad)} bad lines)")
        urls = endpoint_urls(c.settings)
        model = load_endpoints(c.settings)
        if len(urls) > 1:
            err.print(f"endpoints: {len(urls)}, used in turn", highlight=False, soft_wrap=True)
        options = DatasetOptions(
            concurrency=c.settings.concurrency,
            with_meta=with_meta,
            min_length_score=min_length_score,
            max_repetition=max_repetition,
            section_words=section_words,
            window=c.settings.window,
            processes=processes,
            ray=ray,
        )

        def on_progress(p: DatasetProgress) -> None:
            err.print(
                f"[{p.skipped + p.finished}/{p.total}] written {p.written}, rejected {p.rejected}, "
                f"failed {p.failed}, {p.tokens:,} tokens, {p.rows_per_minute:.1f} rows/min, "
                f"ETA {_duration(p.eta_seconds)}",
                highlight=False,
                soft_wrap=True,
            )

        def on_failure(item: PromptItem, exc: Exception) -> None:
            err.print(f"[red]failed[/] line {item.line}: {escape(str(exc))} (rerun to retry)", highlight=False, soft_wrap=True)

        report = generate_dataset(
            items,
            model,
            output,
            options=options,
            settings=c.settings,
            rejects=rejects or rejects_path_for(output),
            bad_lines=bad,
            on_progress=on_progress,
            on_failure=on_failure,
        )
        if report.torn_bytes_repaired:
            err.print(f"repaired a torn last line in {output} ({report.torn_bytes_repaired} bytes cut)", soft_wrap=True)
        err.print(
            f"done: {report.written} written, {report.rejected} rejected, {len(report.failed)} failed, "
            f"{report.skipped_done} already done, {report.duplicates} duplicates, "
            f"{len(report.bad_lines)} bad lines, {report.seconds:.1f}s"
            + (f" on {report.processes} Ray actor{'s' if report.processes != 1 else ''}" if ray is not None else "")
            + (f" in {report.processes} processes" if report.processes > 1 and ray is None else ""),
            highlight=False,
            soft_wrap=True,
        )
        if c.json:
            c.emit_json(report.model_dump())
        if report.failed:
            raise LongdocError(f"{len(report.failed)} prompts failed; rerun the same command to finish them")
