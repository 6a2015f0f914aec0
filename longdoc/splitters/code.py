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
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import pairwise
from pathlib import PurePath

from tree_sitter import Node

from ..documents import Chunk, Document
from ..errors import SplitError
from .languages import MARKDOWN, document_language, get_parser
from .packing import ChunkInfo, Declaration, Packer, RangeCounter, TokenCounter, Unit

log = logging.getLogger(__name__)

BODY_TYPES = frozenset({
    "block", "statement_block", "class_body", "declaration_list", "field_declaration_list",
    "compound_statement", "body_statement", "enum_body", "interface_body", "object_type",
    "enum_variant_list", "do_group", "switch_body", "switch_block", "enum_member_declaration_list",
    "constructor_body", "annotation_type_body", "record_body", "template_body",
})  # fmt: skip
"""Nodes whose children are statements or members: flattened so a header joins its body."""

CLAUSE_TYPES = frozenset({
    "else", "elsif", "when", "rescue", "ensure", "catch_clause", "finally_clause",
    "switch_case", "switch_default", "case_statement", "default_statement",
})  # fmt: skip
"""Clauses of compound statements (besides `*_clause`): flattened so cuts fall inside
their blocks, between statements, rather than before `elif` or `except`."""

COMMENT_TYPES = frozenset({"comment", "line_comment", "block_comment", "doc_comment"})
"""Comments: attached to the declaration they precede (or to the line they end)."""

ATTACHED_TYPES = frozenset({"decorator", "attribute_item", "annotation", "marker_annotation"})
"""Decorators and attributes written as siblings before the item they qualify."""

IMPORT_TYPES = frozenset({
    "import_statement", "import_from_statement", "future_import_statement",
    "import_declaration", "use_declaration", "extern_crate_declaration", "preproc_include",
    "using_directive", "namespace_use_declaration",
})  # fmt: skip
"""Imports: consecutive ones form one block that is only split if it alone is too large."""

DECLARATION_TYPES: dict[str, str] = {
    # python
    "function_definition": "function", "class_definition": "class",
    # javascript / typescript
    "function_declaration": "function", "generator_function_declaration": "function",
    "class_declaration": "class", "abstract_class_declaration": "class",
    "method_definition": "method", "interface_declaration": "interface",
    "type_alias_declaration": "type", "enum_declaration": "enum", "internal_module": "namespace",
    "function_signature": "function", "method_signature": "method",
    "abstract_method_signature": "method",
    # go
    "method_declaration": "method", "type_declaration": "type",
    # rust
    "function_item": "function", "struct_item": "struct", "enum_item": "enum",
    "trait_item": "trait", "impl_item": "impl", "mod_item": "module",
    "macro_definition": "macro", "union_item": "union", "type_item": "type",
    "function_signature_item": "function",
    # java / c#
    "record_declaration": "record", "annotation_type_declaration": "annotation",
    "constructor_declaration": "constructor", "namespace_declaration": "namespace",
    "file_scoped_namespace_declaration": "namespace", "struct_declaration": "struct",
    "property_declaration": "property", "delegate_declaration": "delegate",
    # c / c++
    "struct_specifier": "struct", "class_specifier": "class", "union_specifier": "union",
    "enum_specifier": "enum", "namespace_definition": "namespace", "type_definition": "type",
    # ruby
    "class": "class", "module": "module", "method": "method", "singleton_method": "method",
    # php
    "trait_declaration": "trait",
}  # fmt: skip
"""Node types that declare a name, and the kind of thing they declare."""

WRAPPER_TYPES = frozenset({
    "decorated_definition", "export_statement", "template_declaration", "expression_statement",
    "lexical_declaration", "variable_declaration",
})  # fmt: skip
"""Nodes that may wrap a declaration (decorators, `export`, `template<>`, `const f = ...`)."""

FUNCTION_VALUE_TYPES = frozenset({
    "arrow_function", "function_expression", "function", "generator_function", "class",
})  # fmt: skip
"""Values that make `const name = ...` a declaration in JavaScript and TypeScript."""

NAME_TYPES = frozenset({
    "identifier", "field_identifier", "type_identifier", "qualified_identifier",
    "destructor_name", "operator_name", "constant", "scope_resolution", "name",
    "property_identifier", "namespace_identifier", "package_identifier",
})  # fmt: skip

SIGNATURE_CHARS = 240
"""A signature kept as context is cut to this many characters (long parameter lists)."""


@dataclass(slots=True)
class _Group:
    """The tree-sitter nodes of one unit; `core` is the statement the others attach to."""

    nodes: list[Node]
    core: Node | None
    imports: bool = False


def _text(node: Node) -> str:
    return node.text.decode("utf-8", "replace") if node.text is not None else ""


def _is_text_leaf(node: Node) -> bool:
    """Strings and comments split by lines, not at their escape sequences."""
    node_type = node.type
    return "string" in node_type or "comment" in node_type or "heredoc" in node_type


def _unwrap(node: Node) -> Node | None:
    """The declaration `node` is or wraps, if any."""
    node_type = node.type
    if node_type in DECLARATION_TYPES:
        return node
    if node_type not in WRAPPER_TYPES:
        return None
    if node_type in ("lexical_declaration", "variable_declaration"):
        for child in node.named_children:
            if child.type == "variable_declarator":
                value = child.child_by_field_name("value")
                return child if value is not None and value.type in FUNCTION_VALUE_TYPES else None
        return None
    for child in node.named_children:
        if child.type in DECLARATION_TYPES or child.type in WRAPPER_TYPES:
            return _unwrap(child)
    return None


def _name_of(node: Node) -> str | None:
    """The declared name of a declaration node (C declarators and Rust impls included)."""
    node_type = node.type
    if node_type == "impl_item":
        target = node.child_by_field_name("type")
        return _type_name(target) if target is not None else None
    if node_type == "method_declaration" and (receiver := node.child_by_field_name("receiver")):
        name = node.child_by_field_name("name")  # Go: func (s *Store) Get() -> Store.Get
        for parameter in receiver.named_children:
            kind = parameter.child_by_field_name("type")
            if kind is not None and name is not None:
                return f"{_type_name(kind)}.{_text(name)}"
    if node_type == "type_declaration":
        for child in node.named_children:
            name = child.child_by_field_name("name")
            if name is not None:
                return _text(name)
        return None
    name = node.child_by_field_name("name")
    if name is not None:
        return _text(name)
    declarator = node.child_by_field_name("declarator")
    depth = 0
    while declarator is not None and depth < 16:
        if declarator.type in NAME_TYPES:
            return _text(declarator)
        inner = declarator.child_by_field_name("declarator") or declarator.child_by_field_name(
            "name"
        )
        if inner is None:
            for child in declarator.named_children:
                if child.type in NAME_TYPES:
                    return _text(child)
        declarator, depth = inner, depth + 1
    return None


def _type_name(node: Node) -> str:
    """`Foo` from a type such as `&mut Foo<T>`, `*Foo` or `pkg::Foo`."""
    text = _text(node).split("<", 1)[0]
    for prefix in ("&", "*", "mut ", "dyn ", "const "):
        text = text.replace(prefix, "")
    return text.strip().replace("::", ".")


def _body_of(node: Node) -> Node | None:
    body = node.child_by_field_name("body")
    if body is not None:
        return body
    for child in node.children:
        if child.type in BODY_TYPES:
            return child
    value = node.child_by_field_name("value")  # const f = () => {...}
    return _body_of(value) if value is not None else None


def _signature(data: bytes, node: Node) -> str:
    """The header of a declaration: its text up to the body (or a comment), on one line."""
    body = _body_of(node)
    end = body.start_byte if body is not None else data.find(b"\n", node.start_byte)
    if end < 0 or end > node.end_byte:
        end = node.end_byte
    for child in node.children[1:]:
        if child.start_byte >= end:
            break
        if child.type in COMMENT_TYPES:
            end = child.start_byte
            break
    header = " ".join(data[node.start_byte : end].decode("utf-8", "replace").split())
    return header if len(header) <= SIGNATURE_CHARS else header[: SIGNATURE_CHARS - 1] + "…"


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
            group = _Group([*pending, node], node, node_type in IMPORT_TYPES)
            start = pending[0].start_byte if pending else node.start_byte
            units.append(Unit(start, node.end_byte, member and node.is_named, group))
            pending = []
        if pending:
            units.append(Unit(pending[0].start_byte, pending[-1].end_byte, member,
                              _Group(pending, None)))  # fmt: skip
        return units

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
        return [] if _is_text_leaf(node) else self._expand(node)

    def root_units(self, root: Node) -> list[Unit]:
        return self._group(root.children, member=True)

    def children(self, unit: Unit) -> Sequence[Unit] | None:
        group: _Group = unit.payload
        if group.core is not None and len(group.nodes) == 1 and _is_text_leaf(group.core):
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
        core = _unwrap(group.core)
        if core is None:
            return None
        name = _name_of(core)
        if not name:
            return None
        kind = DECLARATION_TYPES.get(core.type, "function")
        return Declaration(name, kind, _signature(self.data, core))

    def is_declaration(self, unit: Unit) -> bool:
        group: _Group = unit.payload
        return group.core is not None and not group.imports and _unwrap(group.core) is not None

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
        meta = {"path": document.path, "language": language} if document.path else {
            "language": language}  # fmt: skip
        return build_chunks(document, data, packer, meta, module_name(document.path, language))

    def _fallback(self, document: Document, language: str | None, reason: str) -> list[Chunk]:
        from .token import TokenSplitter

        if language is not None:
            message = f"{document.name}: {reason}; split by tokens instead"
            log.warning(message)
            self.warnings.append(message)
        chunks = TokenSplitter(self.limit, counter=self.counter).split(document)
        if language is None:
            return chunks
        return [c.model_copy(update={"meta": {**c.meta, "language": language}}) for c in chunks]


def line_splitter(
    data: bytes, limit: int, counter: str | TokenCounter | None
) -> Callable[[int, int], list[int]]:
    """A function giving the cut positions inside one line too long for a chunk: the token
    splitter's, in bytes of `data`."""

    def split_line(start: int, end: int) -> list[int]:
        from .token import TokenSplitter

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
