"""`longdoc logs`: the most recent model calls from the call log in the cache directory."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from ..llm.call_log import CALL_LOG_NAME, CallLog, CallRecord

PREVIEW_CHARS = 60
"""Prompt and reply are cut to this many characters in the table (JSON has them whole)."""


def register(app: typer.Typer) -> None:
    @app.command("logs")
    def logs_command(
        ctx: typer.Context,
        limit: Annotated[int, typer.Option("--limit", "-n", min=1, help="How many calls.")] = 20,
    ) -> None:
        """List recent model calls, newest first: model, tokens, latency, cached or error."""
        from ..cli import cli_context

        c = cli_context(ctx)
        path = c.settings.cache_dir / CALL_LOG_NAME
        records = CallLog(path).recent(limit) if path.exists() else []
        if c.json:
            c.emit_json({"log": str(path), "calls": [r.model_dump() for r in records]})
            return
        if not records:
            c.err.print(f"no calls logged in {path}")
            return
        c.out.print(_table(records))


def _preview(text: str | None) -> str:
    if not text:
        return ""
    flat = " ".join(text.split())
    return flat if len(flat) <= PREVIEW_CHARS else flat[: PREVIEW_CHARS - 1] + "…"


def _table(records: list[CallRecord]) -> Table:
    table = Table(show_lines=False)
    for name in ("time", "model", "tokens in/out", "latency", "result", "prompt", "reply"):
        table.add_column(name, overflow="fold")
    for r in records:
        when = dt.datetime.fromtimestamp(r.created_at, dt.UTC).strftime("%Y-%m-%d %H:%M:%S")
        result = "cached" if r.cached else "ok"
        if r.error:
            result = f"[red]{escape(r.error[:40])}[/]"
        table.add_row(
            when,
            escape(r.model),
            f"{r.prompt_tokens}/{r.completion_tokens}",
            f"{r.latency_s:.2f}s",
            result,
            escape(_preview(r.prompt)),
            escape(_preview(r.text)),
        )
    return table
