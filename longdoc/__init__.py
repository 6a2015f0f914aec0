"""longdoc: read documents far longer than a model's context window, and write far longer outputs."""

from .api import aask, ask, asummarize, summarize
from .config import Settings
from .documents import Chunk, Document, Section
from .errors import LongdocError
from .llm import load_model
from .pipelines.agent_write import WriteResult, write
from .results import AnswerResult, Citation, SegmentScore
from .sources import LoadResult, Skipped, load
from .splitters import TokenSplitter, split_document, split_documents
from .splitters.code import CodeSplitter
from .splitters.outline import build_outline
from .splitters.relevance import select_key_context
from .tokens import count_tokens, get_encoding, token_counter

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
    "ask",
    "asummarize",
    "build_outline",
    "count_tokens",
    "get_encoding",
    "load",
    "load_model",
    "select_key_context",
    "split_document",
    "split_documents",
    "summarize",
    "token_counter",
    "write",
]
