"""longdoc: read documents far longer than a model's context window, and write far longer outputs."""

from .documents import Chunk, Document, Section
from .errors import LongdocError
from .pipelines.agent_write import WriteResult, write
from .tokens import count_tokens, get_encoding, token_counter

__all__ = [
    "Chunk",
    "Document",
    "LongdocError",
    "Section",
    "WriteResult",
    "count_tokens",
    "get_encoding",
    "token_counter",
    "write",
]
