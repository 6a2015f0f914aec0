"""Split Markdown at its headings: sections nest by level, paragraphs and fenced blocks stay whole.

The same packer as for code: a section that fits is one unit; one too large splits into
its heading, its paragraphs and its subsections; a paragraph too large splits by lines.
Each chunk carries its heading (`section`) and the heading path above it (`context`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from ..documents import Chunk, Document
from ..tokens import TokenCounter
from .packing import (
    Declaration,
    Packer,
    Unit,
    build_chunks,
    line_splitter,
)
from .range_counter import RangeCounter

_ATX = re.compile(rb"^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*\r?$")
_SETEXT = re.compile(rb"^ {0,3}(=+|-+)[ \t]*\r?$")
_FENCE = re.compile(rb"^ {0,3}(`{3,}|~{3,})")


@dataclass(slots=True)
class _Heading:
    title: str
    level: int
    line: str


@dataclass(slots=True)
class _Section:
    heading: _Heading
    children: list[Unit] = field(default_factory=list)


@dataclass(slots=True)
class _Item:
    start: int
    end: int
    heading: _Heading | None = None


def _items(data: bytes) -> list[_Item]:
    """Headings and blocks (runs of non-blank lines; a fenced block is one block)."""
    items: list[_Item] = []
    fence: bytes | None = None
    block: _Item | None = None
    position = 0
    for line in data.splitlines(keepends=True):
        start, position = position, position + len(line)
        stripped = line.strip()
        if fence is not None:
            block.end = position  # type: ignore[union-attr]
            if stripped.startswith(fence) and not stripped.strip(fence[:1]):
                fence = None
            continue
        opening = _FENCE.match(line)
        if opening:
            fence = opening.group(1)
            if block is None:
                block = _Item(start, position)
                items.append(block)
            block.end = position
            continue
        atx = _ATX.match(line)
        if atx:
            title = (atx.group(2) or b"").decode("utf-8", "replace").strip()
            heading = _Heading(title, len(atx.group(1)), line.decode("utf-8", "replace").strip())
            items.append(_Item(start, position, heading))
            block = None
            continue
        setext = _SETEXT.match(line)
        if setext and block is not None and block.heading is None and block.start == _last_line_start(data, start):
            level = 1 if setext.group(1).startswith(b"=") else 2
            title = data[block.start : start].decode("utf-8", "replace").strip()
            block.heading = _Heading(title, level, title)
            block.end = position
            block = None
            continue
        if not stripped:
            block = None
            continue
        if block is None:
            block = _Item(start, position)
            items.append(block)
        else:
            block.end = position
    return items


def _last_line_start(data: bytes, line_start: int) -> int:
    """Start of the line before the one starting at `line_start`."""
    return data.rfind(b"\n", 0, max(line_start - 1, 0)) + 1


def _tree(items: list[_Item]) -> list[Unit]:
    """Nest sections by heading level: a section runs to the next heading at its level or above."""
    index = 0

    def build(level: int) -> list[Unit]:
        nonlocal index
        units: list[Unit] = []
        while index < len(items):
            item = items[index]
            if item.heading is None:
                units.append(Unit(item.start, item.end, True))
                index += 1
                continue
            if item.heading.level <= level:
                break
            index += 1
            section = _Section(item.heading, [Unit(item.start, item.end, False)])
            section.children.extend(build(item.heading.level))
            units.append(Unit(item.start, section.children[-1].end, True, section))
        return units

    return build(0)


class _MarkdownPacker(Packer):
    def children(self, unit: Unit) -> Sequence[Unit] | None:
        section = unit.payload
        return section.children if isinstance(section, _Section) and len(section.children) > 1 else None

    def declaration(self, unit: Unit) -> Declaration | None:
        section = unit.payload
        if isinstance(section, _Section):
            return Declaration(section.heading.title, "heading")
        return None

    def signature(self, unit: Unit) -> str:
        section = unit.payload
        return section.heading.line if isinstance(section, _Section) else ""

    def kind(self, unit: Unit) -> str | None:
        return "paragraph" if unit.member else None


class MarkdownSplitter:
    """Chunks of at most `limit` tokens cut at headings, then paragraphs, lines and tokens."""

    def __init__(self, limit: int, counter: str | TokenCounter | None = None) -> None:
        self.limit = limit
        self.counter = counter

    def split(self, document: Document) -> list[Chunk]:
        if not document.text:
            return []
        data = document.text.encode("utf-8", "surrogatepass")
        ranges = RangeCounter(data, self.counter)
        packer = _MarkdownPacker(
            data, self.limit, ranges, line_splitter(data, self.limit, self.counter)
        )
        packer.pack(_tree(_items(data)), 0, len(data))
        meta = {"language": "markdown"}
        if document.path:
            meta["path"] = document.path
        return build_chunks(document, data, packer, meta, None, section_key="section")
