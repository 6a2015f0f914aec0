"""The data that flows through longdoc: documents, and chunks that point back into them."""

from __future__ import annotations

import hashlib
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

DocumentKind = Literal["text", "markdown", "code", "book", "data", "stdin"]


class Section(BaseModel):
    """A chapter or heading detected in a document: where it starts and what it is called."""

    model_config = ConfigDict(frozen=True)

    title: str
    start: int
    level: int = 1


class Document(BaseModel):
    """One loaded text. `id` is stable for the same path and content."""

    model_config = ConfigDict(frozen=True)

    id: str
    text: str
    path: str | None = None
    kind: DocumentKind = "text"
    language: str | None = None
    sections: tuple[Section, ...] = ()
    meta: dict[str, Any] = Field(default_factory=dict)

    @classmethod
    def from_text(
        cls, text: str, *, path: str | None = None, kind: DocumentKind = "text", **fields: Any
    ) -> Document:
        """Build a document whose id derives from its path (or, without one, its content)."""
        basis = path if path is not None else text
        digest = hashlib.sha256(basis.encode("utf-8", "surrogatepass")).hexdigest()[:12]
        return cls(id=path or f"text-{digest}", text=text, path=path, kind=kind, **fields)

    @property
    def name(self) -> str:
        return self.path or self.id

    @property
    def body(self) -> tuple[int, int]:
        """The span worth reading: inside the framing the loader marked (a Project Gutenberg
        header and licence, `meta["body_start"]` / `meta["body_end"]`), else the whole text."""
        start, end = self.meta.get("body_start"), self.meta.get("body_end")
        if isinstance(start, int) and isinstance(end, int) and 0 <= start < end <= len(self.text):
            return start, end
        return 0, len(self.text)


class Chunk(BaseModel):
    """A span of a document: `document.text[start:end] == text` always holds."""

    model_config = ConfigDict(frozen=True)

    doc_id: str
    index: int
    start: int
    end: int
    text: str
    tokens: int
    lines: tuple[int, int]
    meta: dict[str, Any] = Field(default_factory=dict)

    @property
    def source(self) -> str:
        return str(self.meta.get("path") or self.doc_id)


def line_of(text: str, offset: int) -> int:
    """1-based line number of a character offset."""
    return text.count("\n", 0, offset) + 1


class LineIndex:
    """Line numbers for many offsets of one text, in O(log n) each."""

    def __init__(self, text: str) -> None:
        import bisect

        self._bisect = bisect.bisect_right
        starts = [0]
        find = text.find
        pos = find("\n")
        while pos != -1:
            starts.append(pos + 1)
            pos = find("\n", pos + 1)
        self._starts = starts

    def line(self, offset: int) -> int:
        return self._bisect(self._starts, offset)

    def span(self, start: int, end: int) -> tuple[int, int]:
        """First and last line of the characters [start, end)."""
        last = max(start, end - 1)
        return self.line(start), self.line(last)
