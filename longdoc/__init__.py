"""longdoc: read documents far longer than a model's context window, and write far longer outputs."""

from .documents import Chunk, Document, Section
from .errors import LongdocError
from .pipelines.agent_write import WriteResult, write
from .sources import LoadResult, Skipped, load
from .splitters import TokenSplitter, split_document, split_documents
from .tokens import count_tokens, get_encoding, token_counter

__all__ = [
    "Chunk",
    "Document",
    "LoadResult",
    "LongdocError",
    "Section",
    "Skipped",
    "TokenSplitter",
    "WriteResult",
    "count_tokens",
    "get_encoding",
    "load",
    "split_document",
    "split_documents",
    "token_counter",
    "write",
]
