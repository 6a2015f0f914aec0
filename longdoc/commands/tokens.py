"""`longdoc tokens`: which files would be read, their tokens, and what was skipped and why."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from ..sources import MAX_FILE_BYTES
from ..tokens import DEFAULT_ENCODING, ENCODINGS
from .source_options import (
    AllowSecretsOption,
    ExcludeOption,
    IncludeOption,
    MaxFileBytesOption,
    load_sources,
)

DEFAULT_OUTLINE_TOKENS = 2048
"""Outline budget of `--outline`: about a page of definitions."""

TOP_FILES = 10
"""How many of the largest files the report ranks by their share of tokens."""


def _check_encoding(value: str) -> str:
    if value not in ENCODINGS:
        raise typer.BadParameter(f"choose one of {', '.join(ENCODINGS)}")
    return value


def register(app: typer.Typer) -> None:
    @app.command("tokens")
    def tokens_command(
        ctx: typer.Context,
        paths: Annotated[list[str], typer.Argument(metavar="PATH", help="Files, folders, or - for stdin.")],
        encoding: Annotated[
            str, typer.Option("--encoding", callback=_check_encoding, help="tiktoken encoding.")
        ] = DEFAULT_ENCODING,
        include: IncludeOption = None,
        exclude: ExcludeOption = None,
        max_file_bytes: MaxFileBytesOption = MAX_FILE_BYTES,
        allow_secrets: AllowSecretsOption = False,
        outline: Annotated[
            bool,
            typer.Option("--outline", help="Also show the definitions of each file (an outline)."),
        ] = False,
        outline_tokens: Annotated[
            int,
            typer.Option(
                "--outline-tokens",
                min=1,
                help="Token budget of the outline; the most referenced definitions are kept.",
            ),
        ] = DEFAULT_OUTLINE_TOKENS,
    ) -> None:
        """Report the files PATH would read with their token counts, and every file skipped."""
        from ..cli import cli_context
        from ..reports import TokensReport

        c = cli_context(ctx)
        loaded = load_sources(paths, include, exclude, max_file_bytes, allow_secrets)
        repository_outline = None
        if outline:
            from ..splitters.outline import build_outline

            repository_outline = build_outline(loaded.documents, outline_tokens, encoding=encoding)
        report = TokensReport.of(loaded, encoding)
        if c.json:
            data = report.model_dump(mode="json")
            if repository_outline is not None:
                from ..splitters.outline import OutlineReport

                data["outline"] = OutlineReport.of(repository_outline).model_dump(mode="json")
            c.emit_json(data)
            return
        files = [f.model_dump() for f in report.files]
        skipped = [s.model_dump() for s in report.skipped]
        total = report.total_tokens
        _render(c.out, files, skipped, total)
        if repository_outline is not None:
            c.out.print(
                f"\noutline: {repository_outline.shown_definitions} of "
                f"{repository_outline.total_definitions} definitions, "
                f"{repository_outline.tokens:,} tokens", highlight=False,
            )  # fmt: skip
            c.out.print(Text(repository_outline.render()), end="")


def _render(out, files: list[dict], skipped: list[dict], total: int) -> None:
    table = Table(title=f"{len(files)} files read", title_justify="left")
    table.add_column("path", overflow="fold")
    table.add_column("kind")
    table.add_column("tokens", justify="right")
    for f in files:
        table.add_row(Text(f["path"]), f["kind"], f"{f['tokens']:,}")
    out.print(table)
    if files:
        top = Table(title=f"top {min(TOP_FILES, len(files))} by tokens", title_justify="left")
        top.add_column("path", overflow="fold")
        top.add_column("tokens", justify="right")
        top.add_column("share", justify="right")
        for f in sorted(files, key=lambda f: (-f["tokens"], f["path"]))[:TOP_FILES]:
            top.add_row(Text(f["path"]), f"{f['tokens']:,}", f"{f['tokens'] / total:.1%}" if total else "-")
        out.print(top)
    out.print(f"total: {total:,} tokens in {len(files)} files", highlight=False)
    if skipped:
        table = Table(title=f"{len(skipped)} skipped", title_justify="left")
        table.add_column("path", overflow="fold")
        table.add_column("reason")
        table.add_column("detail", overflow="fold")
        for s in skipped:
            table.add_row(Text(s["path"]), s["reason"], Text(s["detail"]))
        out.print(table)
