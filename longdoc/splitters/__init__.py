"""Splitting documents into chunks under a token limit: pick a splitter per document."""

from __future__ import annotations

from collections.abc import Iterable

from ..documents import Chunk, Document
from ..errors import ConfigError
from ..tokens import TokenCounter
from .token import TokenSplitter

SPLITTERS = ("auto", "token", "code")
"""Names accepted by `split_document(splitter=...)` and `longdoc split --splitter`."""


def split_document(
    doc: Document,
    limit: int,
    *,
    splitter: str = "auto",
    counter: str | TokenCounter | None = None,
    overlap: int = 0,
) -> list[Chunk]:
    """Chunks of at most `limit` tokens of one document, with the splitter named.

    `auto` picks the code splitter for source code in a language we parse and for
    Markdown (split at headings), the token splitter for everything else (and whenever
    an overlap is asked for).
    """
    if splitter not in SPLITTERS:
        raise ConfigError(f"unknown splitter {splitter!r}; choose one of {', '.join(SPLITTERS)}")
    if splitter == "auto" and not overlap:
        from .languages import document_language

        if document_language(doc) is not None:
            splitter = "code"
    if splitter == "code":
        if overlap:
            raise ConfigError("the code splitter does not support --overlap")
        from .code import CodeSplitter

        return CodeSplitter(limit, counter=counter).split(doc)
    return TokenSplitter(limit, counter=counter, overlap=overlap).split(doc)


def split_documents(
    docs: Iterable[Document],
    limit: int,
    *,
    splitter: str = "auto",
    counter: str | TokenCounter | None = None,
    overlap: int = 0,
) -> list[Chunk]:
    """Chunks of every document, in document order (each keeps its `doc_id`)."""
    return [
        chunk
        for doc in docs
        for chunk in split_document(doc, limit, splitter=splitter, counter=counter, overlap=overlap)
    ]


__all__ = ["SPLITTERS", "TokenSplitter", "split_document", "split_documents"]
