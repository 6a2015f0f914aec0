"""Options shared by every command that reads files: globs, size cap, secrets, and loading."""

from __future__ import annotations

from typing import Annotated

import typer

from ..sources import MAX_FILE_BYTES, LoadResult, load

IncludeOption = Annotated[
    list[str] | None,
    typer.Option("--include", help="Only read files matching this glob (repeatable)."),
]
ExcludeOption = Annotated[
    list[str] | None,
    typer.Option("--exclude", help="Skip files matching this glob (repeatable; wins over --include)."),
]
MaxFileBytesOption = Annotated[
    int, typer.Option("--max-file-bytes", min=1, help="Skip files larger than this many bytes.")
]
AllowSecretsOption = Annotated[
    bool,
    typer.Option("--allow-secrets", help="Read files that look like credentials (skipped by default)."),
]


def load_sources(
    paths: list[str],
    include: list[str] | None,
    exclude: list[str] | None,
    max_file_bytes: int = MAX_FILE_BYTES,
    allow_secrets: bool = False,
) -> LoadResult:
    """`longdoc.sources.load` with the command-line options."""
    return load(
        paths,
        include=tuple(include or ()),
        exclude=tuple(exclude or ()),
        max_file_bytes=max_file_bytes,
        allow_secrets=allow_secrets,
    )
