"""What loading returns: the documents read, and every file skipped with its reason."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from ..documents import Document

SkipReason = Literal[
    "gitignore",  # matched by a .gitignore (or .git/info/exclude)
    "longdocignore",  # matched by a .longdocignore
    "default-ignore",  # VCS folders, node_modules, virtualenvs, build output, caches, lock files
    "minified",  # minified JavaScript/CSS, source maps
    "excluded",  # matched by an --exclude glob
    "not-included",  # --include globs were given and none matched
    "too-large",  # over the per-file size cap
    "binary",  # content sniffed as binary
    "secret",  # a credential file by name, or secret material in its content
    "empty",  # no text at all
    "unreadable",  # permission denied, broken link, vanished while reading, corrupt book
    "symlink-loop",  # a symlinked folder leading back to one already walked
    "not-a-file",  # a FIFO, socket or device
    "duplicate",  # the same file, already read through another path (a link, a repeated argument)
    "outside-root",  # a link leading out of the folders a server may read (`load(within=...)`)
]


class Skipped(BaseModel):
    """A file or folder that was not read, and why (`detail` says which rule or pattern)."""

    model_config = ConfigDict(frozen=True)

    path: str
    reason: SkipReason
    detail: str = ""


class LoadResult(BaseModel):
    """Documents in a stable order (by root, then path) and everything skipped."""

    documents: list[Document] = Field(default_factory=list)
    skipped: list[Skipped] = Field(default_factory=list)
