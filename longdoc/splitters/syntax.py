"""What tree-sitter nodes mean across grammars: bodies, comments, imports, declarations.

The code splitter and the outline share these tables and helpers: which nodes hold
statements, which declare a name (and what that name is), and a declaration's
one-line signature.
"""

from __future__ import annotations

from tree_sitter import Node

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




def node_text(node: Node) -> str:
    return node.text.decode("utf-8", "replace") if node.text is not None else ""


def is_text_leaf(node: Node) -> bool:
    """Strings and comments split by lines, not at their escape sequences."""
    node_type = node.type
    return "string" in node_type or "comment" in node_type or "heredoc" in node_type


def declared_node(node: Node) -> Node | None:
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
            return declared_node(child)
    return None


def declared_name(node: Node) -> str | None:
    """The declared name of a declaration node (C declarators and Rust impls included)."""
    node_type = node.type
    if node_type == "impl_item":
        target = node.child_by_field_name("type")
        return type_name(target) if target is not None else None
    if node_type == "method_declaration" and (receiver := node.child_by_field_name("receiver")):
        name = node.child_by_field_name("name")  # Go: func (s *Store) Get() -> Store.Get
        for parameter in receiver.named_children:
            kind = parameter.child_by_field_name("type")
            if kind is not None and name is not None:
                return f"{type_name(kind)}.{node_text(name)}"
    if node_type == "type_declaration":
        for child in node.named_children:
            name = child.child_by_field_name("name")
            if name is not None:
                return node_text(name)
        return None
    name = node.child_by_field_name("name")
    if name is not None:
        return node_text(name)
    declarator = node.child_by_field_name("declarator")
    depth = 0
    while declarator is not None and depth < 16:
        if declarator.type in NAME_TYPES:
            return node_text(declarator)
        inner = declarator.child_by_field_name("declarator") or declarator.child_by_field_name(
            "name"
        )
        if inner is None:
            for child in declarator.named_children:
                if child.type in NAME_TYPES:
                    return node_text(child)
        declarator, depth = inner, depth + 1
    return None


def type_name(node: Node) -> str:
    """`Foo` from a type such as `&mut Foo<T>`, `*Foo` or `pkg::Foo`."""
    text = node_text(node).split("<", 1)[0]
    for prefix in ("&", "*", "mut ", "dyn ", "const "):
        text = text.replace(prefix, "")
    return text.strip().replace("::", ".")


def body_of(node: Node) -> Node | None:
    body = node.child_by_field_name("body")
    if body is not None:
        return body
    for child in node.children:
        if child.type in BODY_TYPES:
            return child
    value = node.child_by_field_name("value")  # const f = () => {...}
    return body_of(value) if value is not None else None


def signature(data: bytes, node: Node) -> str:
    """The header of a declaration: its text up to the body (or a comment), on one line."""
    body = body_of(node)
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
