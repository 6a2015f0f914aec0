"""Loading documents: files, folders and repositories, books, and stdin (`-`)."""

from .loader import MAX_FILE_BYTES, load
from .report import LoadResult, Skipped, SkipReason

__all__ = ["MAX_FILE_BYTES", "LoadResult", "SkipReason", "Skipped", "load"]
