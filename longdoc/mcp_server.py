"""`longdoc mcp`: a Model Context Protocol server over stdio, for coding agents.

Tools: `ask`, `summarize`, `tokens`, `outline` and `split` (paged), each returning the same
pydantic model the command line's `--json` prints, so every tool has an output schema.
Only paths under the server's roots (`--root`, default the working directory) are read: a
relative path is taken from the first root, and `..`, absolute paths elsewhere and links
leading out of the roots are refused with a tool error that says so. Ignore and secret
rules are the command line's, and the model comes from the same global options and
environment. Long reads (`ask`, `summarize`) send a progress notification per model call.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Sequence
from functools import partial
from pathlib import Path, PurePath
from typing import Annotated, Any, Literal

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import Field

from . import api
from .config import Settings
from .errors import ConfigError, LongdocError
from .reports import ChunkRow, SplitPage, TokensReport
from .results import AnswerResult
from .sources import LoadResult, load
from .splitters import split_document
from .splitters.outline import OutlineReport, build_outline

INSTRUCTIONS = (
    "longdoc reads files, folders, whole repositories and books far longer than your context "
    "window. `tokens` and `outline` show what a path holds; `split` pages through its chunks; "
    "`ask` answers a question about it and `summarize` summarizes it (Chain-of-Agents), citing "
    "the spans they used. Paths are relative to the server's first root."
)

SPLIT_PAGE_SIZE = 20
"""Chunks per `split` page by default: about 20k tokens at the default 1,024, a sizeable
but bounded share of an agent's context."""

PathArgument = Annotated[str, Field(description="A file or folder under the server's roots; relative paths start at the first root.")]


class Roots:
    """The folders a server may read, and the check every path argument goes through."""

    def __init__(self, folders: Sequence[str | os.PathLike[str]]) -> None:
        if not folders:
            raise ConfigError("give at least one --root folder for the server to read", setting="--root")
        self.folders = [Path(os.path.realpath(folder)) for folder in folders]
        for folder in self.folders:
            if not folder.is_dir():
                raise LongdocError(f"--root {folder}: not a folder")

    def resolve(self, path: str) -> Path:
        """The real path `path` names, or a ToolError saying why it may not be read."""
        if not path or not path.strip():
            raise ToolError("the path is empty")
        given = PurePath(path)
        if ".." in given.parts:
            raise ToolError(f"{path}: '..' is not allowed; give a path under the roots ({self.describe()})")
        candidate = Path(path) if given.is_absolute() else self.folders[0] / given
        real = Path(os.path.realpath(candidate))
        if not any(real == folder or real.is_relative_to(folder) for folder in self.folders):
            why = "links to a place" if os.path.lexists(candidate) and real != candidate.absolute() else "is"
            raise ToolError(f"{path}: {why} outside the roots this server may read ({self.describe()})")
        if not real.exists():
            raise ToolError(f"{path}: no such file or folder under the roots ({self.describe()})")
        return real

    def describe(self) -> str:
        return ", ".join(str(folder) for folder in self.folders)


def build_server(settings: Settings, roots: Roots) -> MCPServer:
    """The MCP server reading under `roots` with the model `settings` name."""
    server = MCPServer("longdoc", instructions=INSTRUCTIONS, log_level="WARNING")
    model_cache: dict[str, Any] = {}

    def model():
        """The model the settings name, loaded on the first call that needs one."""
        if "model" not in model_cache:
            from .llm import load_model

            try:
                model_cache["model"] = load_model(settings)
            except LongdocError as exc:
                raise ToolError(str(exc)) from exc
        return model_cache["model"]

    def read(path: str) -> LoadResult:
        real = roots.resolve(path)
        try:
            return load([real], within=roots.folders)
        except LongdocError as exc:
            raise ToolError(str(exc)) from exc

    async def in_thread(function, *args, **kwargs):
        try:
            return await asyncio.to_thread(partial(function, *args, **kwargs))
        except LongdocError as exc:
            raise ToolError(str(exc)) from exc

    def progress_reporter(ctx: Context, sent: list[asyncio.Future]):
        loop = asyncio.get_running_loop()

        def report(event) -> None:  # called from the pipeline's threads
            message = f"{event.stage} {event.done}/{event.total}: {event.source}"
            sent.append(
                asyncio.run_coroutine_threadsafe(ctx.report_progress(event.done, event.total, message), loop)
            )

        return report

    async def read_with_progress(ctx: Context, reading, *args, **kwargs) -> AnswerResult:
        """Await the API's async `reading` (its graph runs in a worker thread of its own),
        relaying its progress events to the client as MCP progress notifications."""
        sent: list[asyncio.Future] = []
        try:
            result = await reading(*args, progress=progress_reporter(ctx, sent), **kwargs)
        except LongdocError as exc:
            raise ToolError(str(exc)) from exc
        finally:
            for future in sent:
                with contextlib.suppress(Exception):  # a notification the client did not take
                    await asyncio.wrap_future(future)
        return result.model_copy(update={"notes": []})

    @server.tool()
    async def ask(
        path: PathArgument,
        question: Annotated[str, Field(description="The question to answer from the path's text.")],
        ctx: Context,
        strategy: Annotated[
            Literal["chain", "hierarchical", "xl3m"],
            Field(description="chain (read in order), hierarchical (groups in parallel) or xl3m (most relevant segments)."),
        ] = "chain",
    ) -> AnswerResult:
        """Answer a question about a file, folder, repository or book of any length; the answer
        cites the spans (source, offsets, lines) it rests on."""
        loaded = read(path)
        if not loaded.documents:
            raise ToolError(f"{path}: nothing readable ({len(loaded.skipped)} files skipped)")
        return await read_with_progress(
            ctx, api.aask, loaded.documents, question, strategy=strategy, settings=settings, model=model()
        )

    @server.tool()
    async def summarize(
        path: PathArgument,
        ctx: Context,
        words: Annotated[int | None, Field(ge=10, description="About how many words (default 200).")] = None,
        focus: Annotated[str | None, Field(description="What to pay most attention to.")] = None,
    ) -> AnswerResult:
        """Summarize a file, folder, repository or book: a book's events, characters and
        arguments; a repository's modules, responsibilities, public APIs and how they connect."""
        loaded = read(path)
        if not loaded.documents:
            raise ToolError(f"{path}: nothing readable ({len(loaded.skipped)} files skipped)")
        return await read_with_progress(
            ctx, api.asummarize, loaded.documents, words=words, focus=focus, settings=settings, model=model()
        )

    @server.tool()
    async def tokens(path: PathArgument) -> TokensReport:
        """Which files under a path would be read, their tokens, and every file skipped with its
        reason (ignored, binary, secret, too large, ...)."""
        loaded = read(path)
        return await in_thread(TokensReport.of, loaded)

    @server.tool()
    async def outline(
        path: PathArgument,
        budget: Annotated[int, Field(ge=1, description="Token budget; the most referenced definitions are kept.")] = 2048,
    ) -> OutlineReport:
        """An outline of a repository or file: each file with its classes, functions, methods,
        types and Markdown headings, their lines and signatures, fitted to a token budget."""
        loaded = read(path)
        built = await in_thread(build_outline, loaded.documents, budget)
        return OutlineReport.of(built)

    @server.tool()
    async def split(
        path: PathArgument,
        tokens: Annotated[int, Field(ge=16, le=100_000, description="Most tokens per chunk.")] = 1024,
        cursor: Annotated[int, Field(ge=0, description="Index of the first chunk of the page (next_cursor of the last page).")] = 0,
        page_size: Annotated[int, Field(ge=1, le=200, description="Chunks per page.")] = SPLIT_PAGE_SIZE,
    ) -> SplitPage:
        """The chunks a path is cut into (code at definitions, Markdown at headings, prose at
        paragraphs and sentences), with offsets, lines and text, one page at a time."""
        loaded = read(path)
        if not loaded.documents:
            raise ToolError(f"{path}: nothing to split ({len(loaded.skipped)} files skipped)")

        def page() -> SplitPage:
            rows: list[ChunkRow] = []
            total = 0
            for document in loaded.documents:
                for chunk in split_document(document, tokens):
                    if cursor <= total < cursor + page_size:
                        rows.append(ChunkRow.of(chunk))
                    total += 1
            following = cursor + len(rows)
            return SplitPage(
                chunks=rows, cursor=cursor, next_cursor=following if following < total else None,
                total_chunks=total, skipped=list(loaded.skipped),
            )

        return await in_thread(page)

    return server


def serve(settings: Settings, roots: Sequence[str | os.PathLike[str]]) -> None:
    """Run the server on stdin/stdout until the client closes it."""
    build_server(settings, Roots(roots)).run("stdio")
