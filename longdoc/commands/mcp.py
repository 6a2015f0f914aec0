"""`longdoc mcp`: serve longdoc's reading tools to coding agents over MCP (stdio)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def register(app: typer.Typer) -> None:
    @app.command("mcp")
    def mcp_command(
        ctx: typer.Context,
        root: Annotated[
            list[Path] | None,
            typer.Option("--root", help="A folder the tools may read (repeatable; default: the working directory)."),
        ] = None,
    ) -> None:
        """Run an MCP server over stdio with the tools ask, summarize, tokens, outline and split.

        Only paths under the --root folders are read; the model comes from the global options
        and environment, as for every command. Register it with an MCP client as the command
        `longdoc mcp --root /path/to/project`."""
        from ..cli import cli_context
        from ..mcp_server import serve

        c = cli_context(ctx)
        serve(c.settings, root or [Path.cwd()])
