"""`longdoc eval needle`: needle-in-a-haystack sweep over lengths and depths, per strategy."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from .eval import eval_app

DEFAULT_LENGTHS = "4000,8000,16000"
SUITE_LENGTHS = "4000,8000,16000,32000"
DEFAULT_DEPTHS = "0,25,50,75,100"
DEFAULT_SCORERS = "certainty,lexical"


def int_list(value: str, *, option: str) -> list[int]:
    try:
        items = [int(v) for v in value.split(",") if v.strip()]
    except ValueError:
        raise typer.BadParameter(f"expected comma-separated integers, got {value!r}", param_hint=option) from None
    if not items:
        raise typer.BadParameter("give at least one value", param_hint=option)
    return items


def scorer_list(value: str) -> list[str]:
    """Scorer names, each checked as `make_scorer` would (a `fusion=a+b` too)."""
    from ..errors import ConfigError
    from ..retrieval.scorers import parse_scorer

    items = [v.strip() for v in value.split(",") if v.strip()]
    if not items:
        raise typer.BadParameter("give at least one scorer", param_hint="--scorer")
    for item in items:
        try:
            parse_scorer(item)
        except ConfigError as exc:
            raise typer.BadParameter(str(exc), param_hint="--scorer") from None
    return items


def name_list(value: str, allowed: tuple[str, ...], *, option: str) -> list[str]:
    items = [v.strip() for v in value.split(",") if v.strip()]
    unknown = [v for v in items if v not in allowed]
    if unknown or not items:
        raise typer.BadParameter(
            f"unknown {', '.join(unknown) or 'empty list'}; choose from {', '.join(allowed)}", param_hint=option
        )
    return items


@eval_app.command("needle")
def needle_command(
    ctx: typer.Context,
    lengths: Annotated[str | None, typer.Option("--lengths", help=f"Haystack sizes in tokens, comma-separated [default: {DEFAULT_LENGTHS}; with --suite {SUITE_LENGTHS}].", show_default=False)] = None,
    depths: Annotated[str, typer.Option("--depths", help="Needle depths in percent (0 = start), comma-separated.")] = DEFAULT_DEPTHS,
    strategy: Annotated[str, typer.Option("--strategy", help="xl3m, chain and/or hierarchical, comma-separated.")] = "xl3m",
    scorer: Annotated[str | None, typer.Option("--scorer", help=f"Scorers for xl3m, comma-separated, from: certainty, lexical, dense, hybrid, answer, calibrated, expanded, fusion (or fusion=a+b) [default: {DEFAULT_SCORERS}; with --suite all].", show_default=False)] = None,
    haystack: Annotated[Path | None, typer.Option("--haystack", help="Folder of .txt essays (default: the shared Paul Graham essays).")] = None,
    needle_config: Annotated[Path | None, typer.Option("--needle-config", help="needle_config.json with the needle and its question.")] = None,
    suite: Annotated[Path | None, typer.Option("--suite", help="Folder of needle files (one JSON per needle, e.g. benchmarks/needles/suite): run them all.")] = None,
    select_only: Annotated[bool, typer.Option("--select-only", help="With --suite: selection only, no answer call (cheaper).")] = False,
    rows: Annotated[Path | None, typer.Option("--rows", help="With --suite: JSONL file the rows are appended to; cells already in it are skipped (a sweep resumes).")] = None,
) -> None:
    """Hide a needle sentence in essays at each length and depth; report whether each strategy
    kept it (selected, or reached the final notes) and whether its answer contains it. With
    --suite, every needle of the suite, with a summary per scorer and per needle kind."""
    from rich.table import Table

    from ..cli import cli_context
    from ..evals.needle import build_haystack, load_essays, load_needle, run_cell
    from ..llm import load_model
    from ..retrieval.scorers import SCORERS

    c = cli_context(ctx)
    sizes = int_list(lengths or (SUITE_LENGTHS if suite else DEFAULT_LENGTHS), option="--lengths")
    where = int_list(depths, option="--depths")
    if any(not 0 <= d <= 100 for d in where):
        raise typer.BadParameter("depths are percentages from 0 to 100", param_hint="--depths")
    strategies = name_list(strategy, ("xl3m", "chain", "hierarchical"), option="--strategy")
    scorers = scorer_list(scorer or (",".join(SCORERS) if suite else DEFAULT_SCORERS))
    if suite is not None:
        from .needle_suite import run_suite_command

        if "hierarchical" in strategies:
            raise typer.BadParameter("the suite runs xl3m and chain", param_hint="--strategy")
        run_suite_command(c, suite, sizes, where, strategies, scorers, select_only=select_only, rows=rows, essays_dir=haystack)
        return
    needle = load_needle(needle_config)
    essays = load_essays(haystack)
    model = load_model(c.settings)
    runs = [(s, sc) for s in strategies for sc in (scorers if s == "xl3m" else [None])]
    cells = []
    total = len(sizes) * len(where) * len(runs)
    for tokens in sizes:
        for depth in where:
            stack = build_haystack(essays, needle.text, tokens=tokens, depth=depth)
            for name, scorer_name in runs:
                label = f"{name}:{scorer_name}" if scorer_name else name
                c.err.print(f"[dim]{len(cells) + 1}/{total}[/] {tokens} tokens, depth {depth}%: {label}")
                cell = run_cell(stack, needle, strategy=name, scorer=scorer_name, model=model, settings=c.settings, window=c.settings.window)
                cells.append(cell)
    if c.json:
        c.emit_json({"needle": needle.text.strip(), "question": needle.question, "cells": [cell.model_dump() for cell in cells]})
        return
    table = Table(title=f"needle: {needle.question}")
    for header in ("tokens", "depth %", "strategy", "selected", "rank", "answered", "calls", "seconds", "answer"):
        table.add_column(header)
    for cell in cells:
        label = f"{cell.strategy}:{cell.scorer}" if cell.scorer else cell.strategy
        table.add_row(
            str(cell.tokens), f"{cell.depth:g}", label, "yes" if cell.selected else "no",
            f"{cell.rank}/{cell.segments}" if cell.rank is not None else "-",
            ("yes (segment text)" if cell.fallback else "yes") if cell.answered else "no", str(cell.calls), f"{cell.seconds:.1f}", cell.answer[:60],
        )
    c.out.print(table)
    for name, scorer_name in runs:
        mine = [cell for cell in cells if cell.strategy == name and cell.scorer == scorer_name]
        label = f"{name}:{scorer_name}" if scorer_name else name
        c.out.print(
            f"{label}: selected {sum(x.selected for x in mine)}/{len(mine)}, "
            f"answered {sum(x.answered for x in mine)}/{len(mine)}"
        )


def register(app: typer.Typer) -> None:
    """The command is added to `eval_app` on import; nothing else to register."""
