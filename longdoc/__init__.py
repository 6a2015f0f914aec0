"""longdoc: read documents far longer than a model's context window, and write far longer outputs.

The public names load on first use (PEP 562): `import longdoc` stays light, and langgraph,
the openai client and the embedded model's runtime are imported only by what needs them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .lazy_exports import lazy_exports

_PUBLIC: dict[str, str] = {
    "AnswerResult": ".results",
    "Chunk": ".documents",
    "Citation": ".results",
    "CodeSplitter": ".splitters.code",
    "Document": ".documents",
    "LoadResult": ".sources",
    "LongdocError": ".errors",
    "Section": ".documents",
    "SegmentScore": ".results",
    "Settings": ".config",
    "Skipped": ".sources",
    "TokenSplitter": ".splitters",
    "WriteResult": ".pipelines.agent_write",
    "aask": ".api",
    "aselect_key_context": ".retrieval.key_context",
    "ask": ".api",
    "asummarize": ".api",
    "awrite": ".pipelines.agent_write",
    "build_outline": ".splitters.outline",
    "count_tokens": ".tokens",
    "get_encoding": ".tokens",
    "load": ".sources",
    "load_model": ".llm",
    "plan": ".api",
    "select_key_context": ".retrieval.key_context",
    "split_document": ".splitters",
    "split_documents": ".splitters",
    "summarize": ".api",
    "token_counter": ".tokens",
    "write": ".pipelines.agent_write",
}
"""Each public name and the module that defines it."""

__all__ = [
    "AnswerResult",
    "Chunk",
    "Citation",
    "CodeSplitter",
    "Document",
    "LoadResult",
    "LongdocError",
    "Section",
    "SegmentScore",
    "Settings",
    "Skipped",
    "TokenSplitter",
    "WriteResult",
    "aask",
    "aselect_key_context",
    "ask",
    "asummarize",
    "awrite",
    "build_outline",
    "count_tokens",
    "get_encoding",
    "load",
    "load_model",
    "plan",
    "select_key_context",
    "split_document",
    "split_documents",
    "summarize",
    "token_counter",
    "write",
]


__getattr__, __dir__ = lazy_exports(__name__, _PUBLIC)


if TYPE_CHECKING:
    from .api import aask, ask, asummarize, plan, summarize
    from .config import Settings
    from .documents import Chunk, Document, Section
    from .errors import LongdocError
    from .llm import load_model
    from .pipelines.agent_write import WriteResult, awrite, write
    from .results import AnswerResult, Citation, SegmentScore
    from .retrieval.key_context import aselect_key_context, select_key_context
    from .sources import LoadResult, Skipped, load
    from .splitters import TokenSplitter, split_document, split_documents
    from .splitters.code import CodeSplitter
    from .splitters.outline import build_outline
    from .tokens import count_tokens, get_encoding, token_counter
