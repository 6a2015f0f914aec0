"""The machine-readable reports of `tokens` and `split`: one pydantic model each, shared by
the command line's `--json` and the MCP server's tool results (and their schemas). The
outline's is `splitters.outline.OutlineReport`, kept there so `tokens` need not import it."""

from __future__ import annotations

from pydantic import BaseModel, Field

from .documents import Chunk
from .sources import LoadResult, Skipped
from .tokens import DEFAULT_ENCODING, count_tokens


class FileTokens(BaseModel):
    """One file that would be read, with its tokens."""

    path: str
    tokens: int
    kind: str


class TokensReport(BaseModel):
    """`longdoc tokens --json`: the files read with their tokens, and every file skipped."""

    files: list[FileTokens]
    skipped: list[Skipped]
    total_tokens: int
    encoding: str = DEFAULT_ENCODING

    @classmethod
    def of(cls, loaded: LoadResult, encoding: str = DEFAULT_ENCODING) -> TokensReport:
        files = [
            FileTokens(path=doc.name, tokens=count_tokens(doc.text, encoding), kind=doc.kind)
            for doc in loaded.documents
        ]
        return cls(
            files=files,
            skipped=list(loaded.skipped),
            total_tokens=sum(f.tokens for f in files),
            encoding=encoding,
        )


class ChunkRow(BaseModel):
    """`longdoc split --json`: one line per chunk, with its text."""

    source: str
    index: int
    start: int
    end: int
    tokens: int
    lines: list[int] = Field(description="[first, last] line of the chunk, 1-based")
    symbol: str | None = None
    section: str | None = None
    text: str

    @classmethod
    def of(cls, chunk: Chunk) -> ChunkRow:
        return cls(
            source=chunk.source,
            index=chunk.index,
            start=chunk.start,
            end=chunk.end,
            tokens=chunk.tokens,
            lines=list(chunk.lines),
            symbol=chunk.meta.get("symbol"),
            section=chunk.meta.get("section"),
            text=chunk.text,
        )


class SplitPage(BaseModel):
    """A page of the chunks of a path: `chunks[i]` is chunk `cursor + i`; ask again with
    `next_cursor` for the next page (null after the last)."""

    chunks: list[ChunkRow]
    cursor: int
    next_cursor: int | None
    total_chunks: int
    skipped: list[Skipped] = Field(default_factory=list)
