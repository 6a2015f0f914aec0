"""Greedy packing of a syntax tree into chunks under a token limit, in UTF-8 byte space.

A file is tokenized once; the token count of any byte range is then estimated with two
binary searches over the token start offsets. Only ranges near the limit are counted
exactly, so the packer can try thousands of boundaries for the cost of one encode.

The packer walks "units" (a declaration with its comments, an import block, a
statement): consecutive units are merged while they fit; a unit too large for a chunk
is split along its children, keeping the enclosing declarations as context; a leaf too
large is split by lines and, for a line too large, by the token splitter. `build_chunks`
turns the packer's cuts into `Chunk`s with exact counts, offsets and metadata.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

from ..documents import Chunk, Document
from ..tokens import TokenCounter
from .range_counter import ESTIMATE_MARGIN, RangeCounter
from .token import TokenSplitter

PREFERRED_FILL = 0.5
"""A cut may move back to a statement boundary as long as the chunk stays this full."""

SMALL_CHUNK_FILL = 0.25
"""Before a declaration too large for one chunk, what is already in the chunk is cut off
only if it fills this much of the limit; less (a package line and imports) rides along
into the declaration's first chunk instead of becoming a fragment."""

MAX_DEPTH = 200
"""Deeper than this (minified code nests expressions hundreds deep) a unit is split by
lines and tokens instead of by its children, to bound recursion."""


@dataclass(slots=True)
class Unit:
    """A span the packer places whole or splits: nodes grouped with their comments.

    `member` units are statements or declarations of a body; the others are parts of a
    header (keywords, name, parameters, braces) that must not be cut off alone.
    """

    start: int
    end: int
    member: bool
    payload: Any = None


@dataclass(slots=True)
class ChunkInfo:
    """What the packer learned about one chunk while placing units into it."""

    context: tuple[str, ...]
    scope: tuple[str, ...]
    symbol: tuple[str, ...] | None = None
    kind: str | None = None
    first_kind: str | None = None
    symbols: list[tuple[str, ...]] = field(default_factory=list)


@dataclass(slots=True)
class Declaration:
    """A unit that declares a name: its name and node kind (the signature is asked for
    only when the declaration becomes context, see `Packer.signature`)."""

    name: str
    kind: str


class Packer:
    """Places units into chunks; subclasses say how a unit splits and what it declares."""

    def __init__(
        self,
        data: bytes,
        limit: int,
        ranges: RangeCounter,
        split_line: Callable[[int, int], list[int]],
    ) -> None:
        self.data = data
        self.limit = limit
        self.ranges = ranges
        self.margin: float = ESTIMATE_MARGIN
        self._split_line = split_line
        self.cuts: list[int] = []
        self.open = 0
        self.infos: dict[int, ChunkInfo] = {0: ChunkInfo((), ())}
        self.names: list[str] = []
        self.signatures: list[str] = []

    # -- what subclasses provide -------------------------------------------------------
    def children(self, unit: Unit) -> Sequence[Unit] | None:
        """The units a too-large unit splits into, or None for a leaf."""
        raise NotImplementedError

    def declaration(self, unit: Unit) -> Declaration | None:
        return None

    def kind(self, unit: Unit) -> str | None:
        return None

    def signature(self, unit: Unit) -> str:
        """The one-line header of a declaration unit, kept as context for its pieces."""
        return ""

    def is_declaration(self, unit: Unit) -> bool:
        """Cheaper than `declaration(unit) is not None`; subclasses may override."""
        return self.declaration(unit) is not None

    # -- packing -------------------------------------------------------------------------
    def fits(self, start: int, end: int) -> bool:
        estimate = self.ranges.estimate(start, end)
        if estimate <= self.limit - self.margin:
            return True
        if estimate > self.limit + self.margin:
            return False
        return self.ranges.exact(start, end) <= self.limit

    def cut(self, position: int) -> None:
        if position <= self.open:
            return
        self.cuts.append(position)
        self.open = position
        self.infos[position] = ChunkInfo(tuple(self.signatures), tuple(self.names))

    def note(self, unit: Unit) -> Declaration | None:
        """Record that `unit` starts in the open chunk (its symbol, its kind)."""
        info = self.infos[self.open]
        declared = self.declaration(unit)
        if declared is not None:
            qualified = (*self.names, declared.name)
            info.symbols.append(qualified)
            if info.symbol is None:
                info.symbol, info.kind = qualified, declared.kind
        elif info.first_kind is None:
            info.first_kind = self.kind(unit)
        return declared

    def boundary(self, previous_end: int, start: int) -> int:
        """Where to cut before a unit starting at `start`: its line start if only
        indentation precedes it there, else the unit itself."""
        data = self.data
        line_start = data.rfind(b"\n", 0, start) + 1
        if line_start == 0 or data[line_start:start].strip(b" \t\f\v"):
            return start
        if line_start < previous_end and data[line_start:previous_end].strip():
            return start  # the previous unit ends on this line
        return line_start

    def pack(self, units: Sequence[Unit], lo: int, hi: int, depth: int = 0) -> None:
        """Place `units`, which cover [lo, hi) in order, continuing the open chunk."""
        count = len(units)
        bounds = [lo]
        for index in range(1, count):
            bounds.append(max(bounds[-1], self.boundary(units[index - 1].end, units[index].start)))
        bounds.append(hi)
        members_open = self.open < lo
        last_member = max((i for i, u in enumerate(units) if u.member), default=-1)
        for index, unit in enumerate(units):
            start, end = bounds[index], bounds[index + 1]
            if start == end:
                continue
            if self.fits(self.open, end):
                self.note(unit)
                members_open = members_open or unit.member
                continue
            alone = self.fits(start, end)
            worth_a_chunk = members_open and (
                self.ranges.estimate(self.open, start) >= self.limit * SMALL_CHUNK_FILL
            )
            if self.open < start and (alone or (unit.member and worth_a_chunk)):
                first = self._preferred_cut(units, bounds, index)
                self.cut(bounds[first])
                members_open = False
                for earlier in units[first:index]:
                    self.note(earlier)
                    members_open = members_open or earlier.member
                if not self.fits(self.open, end) and self.open < start:
                    self.cut(start)  # the units moved along leave no room: cut here after all
                    members_open = False
                elif alone:
                    self.note(unit)
                    members_open = members_open or unit.member
                    continue
            if alone:
                self.note(unit)
                members_open = unit.member
                continue
            declared = self.note(unit)
            self.split_unit(unit, start, end, depth, declared)
            if declared is not None and unit.member and index < last_member:
                self.cut(end)
                members_open = False
            else:
                members_open = True

    def _preferred_cut(self, units: Sequence[Unit], bounds: list[int], index: int) -> int:
        """Where to cut when unit `index` does not fit. Looking back through the open chunk
        (while it stays at least `PREFERRED_FILL` full): the nearest declaration on its own
        line, else the nearest statement or member on its own line, else the nearest line
        start, else `index` itself."""
        data, open_start = self.data, self.open
        floor = self.limit * PREFERRED_FILL
        member = line = None
        for candidate in range(index, -1, -1):
            position = bounds[candidate]
            if position <= open_start:
                break
            if candidate < index and self.ranges.estimate(open_start, position) < floor:
                break
            if data[position - 1] == 0x0A:
                unit = units[candidate]
                if unit.member and self.is_declaration(unit):
                    return candidate
                if member is None and unit.member:
                    member = candidate
                if line is None:
                    line = candidate
        for choice in (member, line):
            if choice is not None:
                return choice
        return index

    def split_unit(
        self, unit: Unit, start: int, end: int, depth: int, declared: Declaration | None
    ) -> None:
        children = self.children(unit) if depth < MAX_DEPTH else None
        if not children:
            self.split_lines(start, end)
            return
        if declared is not None:
            self.names.append(declared.name)
            self.signatures.append(self.signature(unit))
        try:
            self.pack(children, start, end, depth + 1)
        finally:
            if declared is not None:
                self.names.pop()
                self.signatures.pop()

    def split_lines(self, start: int, end: int) -> None:
        """Split [start, end) at line starts; a line too large goes to the token splitter."""
        data = self.data
        line_start = start
        while line_start < end:
            newline = data.find(b"\n", line_start, end)
            line_end = end if newline < 0 else newline + 1
            if not self.fits(self.open, line_end):
                if self.open < line_start:
                    self.cut(line_start)
                if not self.fits(line_start, line_end):
                    for position in self._split_line(line_start, line_end):
                        self.cut(position)
            line_start = line_end

    def repair(self, start: int, end: int) -> list[int]:
        """Cuts inside [start, end) that bring every piece under the limit, counting exactly."""
        saved = self.cuts, self.open, self.margin
        self.cuts, self.open, self.margin = [], start, float("inf")
        try:
            self.split_lines(start, end)
            return self.cuts
        finally:
            self.cuts, self.open, self.margin = saved


def line_splitter(
    data: bytes, limit: int, counter: str | TokenCounter | None
) -> Callable[[int, int], list[int]]:
    """A function giving the cut positions inside one line too long for a chunk: the token
    splitter's, in bytes of `data`."""

    def split_line(start: int, end: int) -> list[int]:
        piece = data[start:end].decode("utf-8", "surrogatepass")
        chunks = TokenSplitter(limit, counter=counter).split(Document.from_text(piece))
        positions, offset, previous = [], start, 0
        for chunk in chunks[1:]:
            offset += len(piece[previous : chunk.start].encode("utf-8", "surrogatepass"))
            previous = chunk.start
            positions.append(offset)
        return positions

    return split_line


def _char_offsets(data: bytes, positions: list[int]) -> list[int]:
    """Character offsets of sorted UTF-8 byte offsets (all at character boundaries)."""
    if len(positions) == 0 or data.isascii():
        return list(positions)
    result, chars, previous = [], 0, 0
    for position in positions:
        chars += len(data[previous:position].decode("utf-8", "surrogatepass"))
        previous = position
        result.append(chars)
    return result


def _qualify(module: str | None, parts: tuple[str, ...]) -> str:
    return ".".join((module, *parts)) if module else ".".join(parts)


def build_chunks(
    document: Document,
    data: bytes,
    packer: Packer,
    base_meta: dict,
    module: str | None,
    section_key: str | None = None,
) -> list[Chunk]:
    """Chunks from the packer's cuts: exact token counts, repairs, offsets and metadata.

    With `section_key`, the chunk's innermost declaration name goes under that key
    (Markdown headings) instead of a qualified `symbol`.
    """
    bounds = [0, *packer.cuts, len(data)]
    pieces: list[tuple[int, int, ChunkInfo]] = []
    info = packer.infos[0]
    for start, end in pairwise(bounds):
        info = packer.infos.get(start, info)
        if start >= end:
            continue
        if packer.ranges.exact(start, end) <= packer.limit:
            pieces.append((start, end, info))
            continue
        inner = [start, *packer.repair(start, end), end]
        pieces.extend((a, b, info) for a, b in pairwise(inner) if a < b)
    positions = sorted({p for a, b, _ in pieces for p in (a, b)})
    char_of = dict(zip(positions, _char_offsets(data, positions), strict=True))
    text = document.text
    chunks: list[Chunk] = []
    line = 1  # the line of byte offset `a`, counted incrementally
    for index, (a, b, info) in enumerate(pieces):
        start, end = char_of[a], char_of[b]
        inner_newlines = data.count(b"\n", a, b - 1)
        lines = (line, line + inner_newlines)
        line += inner_newlines + (data[b - 1] == 0x0A)
        meta = dict(base_meta)
        if info.symbol is not None:
            symbol, kind = info.symbol, info.kind
        else:
            symbol, kind = info.scope, info.first_kind
        if section_key is not None:
            if symbol:
                meta[section_key] = symbol[-1]
        elif symbol or module:
            meta["symbol"] = _qualify(module, symbol)
            if len(info.symbols) > 1:
                meta["symbols"] = [_qualify(module, s) for s in info.symbols]
        if kind:
            meta["node_kind"] = kind
        if info.context:
            meta["context"] = "\n".join(info.context)
        chunks.append(Chunk(
            doc_id=document.id, index=index, start=start, end=end, text=text[start:end],
            tokens=packer.ranges.exact(a, b), lines=lines, meta=meta,
        ))  # fmt: skip
    return chunks
