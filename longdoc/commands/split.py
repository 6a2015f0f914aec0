"""`longdoc split`: the chunks a file, folder or stdin would be cut into."""

from __future__ import annotations

from typing import Annotated

import typer

from ..errors import SourceError
from ..sources import MAX_FILE_BYTES
from ..splitters import SPLITTERS, split_document
from .source_options import (
    AllowSecretsOption,
    ExcludeOption,
    IncludeOption,
    MaxFileBytesOption,
    load_sources,
)

DEFAULT_CHUNK_TOKENS = 1024


def _check_splitter(value: str) -> str:
    if value not in SPLITTERS:
        raise typer.BadParameter(f"choose one of {', '.join(SPLITTERS)}")
    return value


def register(app: typer.Typer) -> None:
    @app.command("split")
    def split_command(
        ctx: typer.Context,
        paths: Annotated[list[str], typer.Argument(metavar="PATH", help="Files, folders, or - for stdin.")],
        tokens: Annotated[
            int, typer.Option("--tokens", "-t", min=1, help="Most tokens per chunk.")
        ] = DEFAULT_CHUNK_TOKENS,
        splitter: Annotated[
            str,
            typer.Option("--splitter", callback=_check_splitter, help="auto, token or code."),
        ] = "auto",
        overlap: Annotated[
            int, typer.Option("--overlap", min=0, help="Tokens repeated from the previous chunk.")
        ] = 0,
        include: IncludeOption = None,
        exclude: ExcludeOption = None,
        max_file_bytes: MaxFileBytesOption = MAX_FILE_BYTES,
        allow_secrets: AllowSecretsOption = False,
    ) -> None:
        """Show the chunks PATH would be cut into (JSON Lines with --json, with their text)."""
        from ..cli import cli_context
        from ..reports import ChunkRow

        c = cli_context(ctx)
        if overlap >= tokens:
            raise typer.BadParameter("--overlap must be smaller than --tokens")
        loaded = load_sources(paths, include, exclude, max_file_bytes, allow_secrets)
        for skip in loaded.skipped:
            c.err.print(f"skipped {skip.path}: {skip.reason}", highlight=False, markup=False)
        if not loaded.documents:
            raise SourceError(f"nothing to split: {len(loaded.skipped)} paths skipped, none read")
        count = 0
        for doc in loaded.documents:
            for chunk in split_document(doc, tokens, splitter=splitter, overlap=overlap):
                count += 1
                row = ChunkRow.of(chunk)
                if c.json:
                    c.emit_json(row.model_dump(mode="json"))
                else:
                    label = row.symbol or row.section or ""
                    c.out.print(
                        f"{row.source}:{chunk.lines[0]}-{chunk.lines[1]}\t"
                        f"chars {chunk.start}-{chunk.end}\t{chunk.tokens} tokens\t{label}".rstrip(),
                        highlight=False,
                        markup=False,
                    )
        c.err.print(f"{count} chunks from {len(loaded.documents)} documents", highlight=False)
