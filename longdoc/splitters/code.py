"""Split source code along its tree-sitter syntax tree, so chunks end between declarations.

Boundaries fall at top-level declarations; small neighbours are merged up to the
limit; a declaration too large is split along its children (a class into methods, a
function into statements) with the enclosing signatures kept in `meta["context"]`;
comments, decorators and attributes stay with the declaration they precede; an import
block stays together. A leaf too large (a giant literal, a minified line) is split by
lines, then by tokens. Files with syntax errors still chunk (tree-sitter recovers); a
grammar that fails to load sends that one file to the token splitter, with a warning.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import PurePath

from tree_sitter import Node

from ..documents import Chunk, Document
from ..errors import SplitError
from ..tokens import TokenCounter
from .languages import MARKDOWN, document_language, get_parser
from .packing import (
    Declaration,
    Packer,
    Unit,
    build_chunks,
    line_splitter,
)
from .range_counter import RangeCounter
from .syntax import (
    ATTACHED_TYPES,
    BODY_TYPES,
    CLAUSE_TYPES,
    COMMENT_TYPES,
    DECLARATION_TYPES,
    IMPORT_TYPES,
    WRAPPER_TYPES,
    declared_name,
    declared_node,
    is_text_leaf,
    signature,
)
from .token import TokenSplitter

log = logging.getLogger(__name__)


@dataclass(slots=True)
class _Group:
    """The tree-sitter nodes of one unit; `core` is the statement the others attach to."""

    nodes: list[Node]
    core: Node | None
    imports: bool = False


def module_name(path: str | None, language: str | None) -> str | None:
    """Dotted module path of a file (`pkg/mod.py` -> `pkg.mod`); just the stem for absolute paths."""
    if not path:
        return None
    pure = PurePath(path)
    parts = [pure.stem] if pure.is_absolute() else [
        p for p in pure.with_suffix("").parts if p not in (".", "..", "")
    ]
    if language == "python" and len(parts) > 1 and parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts) or None


class _TreePacker(Packer):
    """The packer, reading units from a tree-sitter tree."""

    def _group(self, nodes: Sequence[Node], member: bool) -> list[Unit]:
        data = self.data
        units: list[Unit] = []
        pending: list[Node] = []
        for node in nodes:
            node_type = node.type
            if node_type in COMMENT_TYPES:
                if units and not pending and data.find(b"\n", units[-1].end, node.start_byte) < 0:
                    last = units[-1]  # a comment ending the previous unit's line
                    last.payload.nodes.append(node)
                    last.end = node.end_byte
                else:
                    pending.append(node)
                continue
            if node_type in ATTACHED_TYPES:
                pending.append(node)
                continue
            if (
                node_type == "expression_statement"
                and units
                and not pending
                and data.count(b"\n", units[-1].end, node.start_byte) == 1
                and node.named_child_count == 1
                and node.named_children[0].type == "string"
                and units[-1].payload.core is not None
                and units[-1].payload.core.type == "expression_statement"
            ):
                last = units[-1]  # an attribute docstring: the string under an assignment
                last.payload.nodes.append(node)
                last.end = node.end_byte
                continue
            if node_type in IMPORT_TYPES and units and units[-1].payload.imports:
                last = units[-1]
                last.payload.nodes.extend(pending)
                last.payload.nodes.append(node)
                last.end = node.end_byte
                pending = []
                continue
            leading = self._place_comments(pending, units, member, node) if pending else []
            group = _Group([*leading, node], node, node_type in IMPORT_TYPES)
            start = leading[0].start_byte if leading else node.start_byte
            units.append(Unit(start, node.end_byte, member and node.is_named, group))
            pending = []
        if pending:
            self._place_comments(pending, units, member, None)
        return units

    def _place_comments(
        self, pending: list[Node], units: list[Unit], member: bool, following: Node | None
    ) -> list[Node]:
        """Share comments out by blank lines: the run right above `following` leads it (it
        is returned); a run right below the previous unit trails that unit; the rest is a
        unit of its own (a section comment)."""
        data = self.data

        def adjacent(end: int, start: int) -> bool:
            return data.count(b"\n", end, start) <= 1

        if following is not None and any(n.type in ATTACHED_TYPES for n in pending):
            return pending
        runs: list[list[Node]] = [[pending[0]]]
        for node in pending[1:]:
            if adjacent(runs[-1][-1].end_byte, node.start_byte):
                runs[-1].append(node)
            else:
                runs.append([node])
        leading: list[Node] = []
        if following is not None and adjacent(runs[-1][-1].end_byte, following.start_byte):
            leading = runs.pop()
        if runs and units and adjacent(units[-1].end, runs[0][0].start_byte):
            trailing = runs.pop(0)
            last = units[-1]
            last.payload.nodes.extend(trailing)
            last.end = trailing[-1].end_byte
        if runs:
            alone = [node for run in runs for node in run]
            units.append(Unit(alone[0].start_byte, alone[-1].end_byte, member, _Group(alone, None)))
        return leading

    def _expand(self, node: Node) -> list[Unit]:
        if node.type == "ERROR":
            return self._group(node.children, member=True)
        units: list[Unit] = []
        wrapper = node.type in WRAPPER_TYPES
        for child in node.children:
            child_type = child.type
            if child_type in BODY_TYPES:
                units.extend(self._group(child.children, member=True))
            elif child_type in CLAUSE_TYPES or child_type.endswith("_clause"):
                units.extend(self._expand(child))  # elif/else/except: their blocks join ours
            elif wrapper and child.is_named and (
                child_type in DECLARATION_TYPES or child_type in WRAPPER_TYPES
                or child_type == "variable_declarator"
            ):
                units.extend(self._expand(child))
            else:
                units.append(Unit(child.start_byte, child.end_byte, False, _Group([child], child)))
        return units

    def _expand_or_leaf(self, node: Node) -> list[Unit]:
        return [] if is_text_leaf(node) else self._expand(node)

    def root_units(self, root: Node) -> list[Unit]:
        return self._group(root.children, member=True)

    def children(self, unit: Unit) -> Sequence[Unit] | None:
        group: _Group = unit.payload
        if group.core is not None and len(group.nodes) == 1 and is_text_leaf(group.core):
            return None
        if group.imports and len(group.nodes) > 1:
            return [Unit(n.start_byte, n.end_byte, True, _Group([n], n)) for n in group.nodes]
        units: list[Unit] = []
        for node in group.nodes:
            if node is group.core or len(group.nodes) == 1:
                units.extend(self._expand_or_leaf(node))
            else:
                units.append(Unit(node.start_byte, node.end_byte, False, _Group([node], None)))
        return units or None

    def declaration(self, unit: Unit) -> Declaration | None:
        group: _Group = unit.payload
        if group.core is None or group.imports:
            return None
        core = declared_node(group.core)
        if core is None:
            return None
        name = declared_name(core)
        if not name:
            return None
        return Declaration(name, DECLARATION_TYPES.get(core.type, "function"))

    def signature(self, unit: Unit) -> str:
        core = declared_node(unit.payload.core)
        return signature(self.data, core) if core is not None else ""

    def is_declaration(self, unit: Unit) -> bool:
        group: _Group = unit.payload
        return group.core is not None and not group.imports and declared_node(group.core) is not None

    def kind(self, unit: Unit) -> str | None:
        group: _Group = unit.payload
        if group.imports:
            return "imports"
        node = group.core if group.core is not None else group.nodes[0]
        return node.type


class CodeSplitter:
    """Chunks of at most `limit` tokens cut along the syntax tree of a source file.

    `counter` is an encoding name or any `Callable[[str], int]`; by default the tiktoken
    encoding of `longdoc.tokens`. Text that is not code (or whose grammar fails) goes
    to the token splitter; Markdown is split at its headings. Warnings about files that
    fell back are logged and kept in `.warnings`.
    """

    def __init__(self, limit: int, counter: str | TokenCounter | None = None) -> None:
        if limit < 1:
            raise SplitError(f"chunk limit must be at least 1 token, not {limit}", limit=limit)
        self.limit = limit
        self.counter = counter
        self.warnings: list[str] = []

    def split(self, document: Document) -> list[Chunk]:
        language = document_language(document)
        if not document.text:
            return []
        if language == MARKDOWN:
            from .markdown import MarkdownSplitter

            return MarkdownSplitter(self.limit, self.counter).split(document)
        if language is None:
            return self._fallback(document, None, "no grammar for this file type")
        try:
            parser = get_parser(language)
        except SplitError as exc:
            return self._fallback(document, language, str(exc))
        data = document.text.encode("utf-8", "surrogatepass")
        ranges = RangeCounter(data, self.counter)
        packer = _TreePacker(data, self.limit, ranges, line_splitter(data, self.limit, self.counter))
        if not packer.fits(0, len(data)):  # a file that fits whole needs no parse
            try:
                tree = parser.parse(data)
            except (ValueError, RuntimeError) as exc:
                return self._fallback(document, language, f"tree-sitter could not parse it: {exc}")
            packer.pack(packer.root_units(tree.root_node), 0, len(data))
        else:
            packer.infos[0].first_kind = "module"
        meta = {"language": language}
        if document.path:
            meta["path"] = document.path
        return build_chunks(document, data, packer, meta, module_name(document.path, language))

    def _fallback(self, document: Document, language: str | None, reason: str) -> list[Chunk]:
        if language is not None:
            message = f"{document.name}: {reason}; split by tokens instead"
            log.warning(message)
            self.warnings.append(message)
        chunks = TokenSplitter(self.limit, counter=self.counter).split(document)
        if language is None:
            return chunks
        return [c.model_copy(update={"meta": {**c.meta, "language": language}}) for c in chunks]
