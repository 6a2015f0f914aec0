"""longdoc: read documents far longer than a model's context window, and write far longer outputs."""

from .documents import Chunk, Document, Section
from .errors import LongdocError
from .tokens import count_tokens, get_encoding, token_counter

__all__ = [
    "Chunk",
    "Document",
    "LongdocError",
    "Section",
    "count_tokens",
    "get_encoding",
    "token_counter",
]
