"""The `longdoc eval` group; its subcommands (length, needle, qa) live in their own modules."""

from __future__ import annotations

import typer

eval_app = typer.Typer(
    help="Measure longdoc on benchmark data: length control, needles, long-document QA.",
    no_args_is_help=True,
)


def register(app: typer.Typer) -> None:
    app.add_typer(eval_app, name="eval")
