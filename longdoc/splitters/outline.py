"""A repository outline: the definitions of each file (name, kind, line), fitted to a token budget.

Definitions come from the same tree-sitter grammars as the code splitter (headings for
Markdown). When everything does not fit, definitions are ranked by how many other
files mention their name (a cheap stand-in for a reference graph), and the best are
kept, each with the class or namespace around it so the outline still reads as a tree.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Iterable

from pydantic import BaseModel, Field
from tree_sitter import Node

from ..documents import Document
from ..errors import SplitError
from ..tokens import DEFAULT_ENCODING, TokenCounter, token_counter
from .languages import MARKDOWN, document_language, get_parser
from .syntax import (
    BODY_TYPES,
    DECLARATION_TYPES,
    WRAPPER_TYPES,
    declared_name,
    declared_node,
    signature,
)

log = logging.getLogger(__name__)

CONTAINER_KINDS = frozenset({
    "class", "interface", "impl", "trait", "module", "namespace", "struct", "enum", "record",
    "heading",
})  # fmt: skip
"""Definitions whose members are listed under them (functions' locals are not)."""

SIGNATURE_CHARS = 120
"""An outline line shows at most this much of a signature (long parameter lists)."""

_PADDED_BRACKET = re.compile(r"[(\[] | [)\]]|, [)\]]")
_IDENTIFIER = re.compile(r"[A-Za-z_]\w{2,}")
_HEADING = re.compile(r"^(#{1,6})[ \t]+(.+?)[ \t#]*$", re.MULTILINE)


class Definition(BaseModel):
    """One named definition in a file."""

    name: str
    qualname: str
    kind: str
    line: int
    end_line: int
    signature: str
    depth: int = 0
    score: float = 0.0


class FileOutline(BaseModel):
    """The definitions of one file, in file order."""

    path: str
    language: str | None = None
    definitions: list[Definition] = Field(default_factory=list)


class Outline(BaseModel):
    """Definitions of a set of files; `render()` gives the text a model reads."""

    files: list[FileOutline] = Field(default_factory=list)
    budget: int | None = None
    tokens: int = 0
    total_definitions: int = 0
    shown_definitions: int = 0

    def render(self) -> str:
        return render_outline(self.files)


class OutlineReport(Outline):
    """An outline with its rendered text: `longdoc tokens --outline --json` and the MCP
    server's outline tool."""

    text: str = ""

    @classmethod
    def of(cls, outline: Outline) -> OutlineReport:
        return cls(text=outline.render(), **outline.model_dump())


def render_outline(files: Iterable[FileOutline]) -> str:
    """`path` then one line per definition: line number, indentation by depth, signature."""
    lines: list[str] = []
    for outline in files:
        lines.append(f"{outline.path}:")
        for definition in outline.definitions:
            indent = "  " * definition.depth
            lines.append(f"{definition.line:>6}  {indent}{definition.signature}")
    return "\n".join(lines) + ("\n" if lines else "")


def _short(signature: str) -> str:
    """A signature tidied for one outline line: no padding inside brackets, at most
    `SIGNATURE_CHARS` characters."""
    tidy = _PADDED_BRACKET.sub(lambda m: m.group(0).replace(" ", ""), signature)
    return tidy if len(tidy) <= SIGNATURE_CHARS else tidy[: SIGNATURE_CHARS - 1] + "…"


def _walk(
    data: bytes,
    node: Node,
    scope: tuple[str, ...],
    depth: int,
    out: list[Definition],
    parent_kind: str | None = None,
) -> None:
    """Append the definitions under `node`: top level, and the members of classes,
    namespaces, impls and the like (not the locals of functions)."""
    for child in node.named_children:
        child_type = child.type
        if child_type in BODY_TYPES or child_type == "ERROR":
            _walk(data, child, scope, depth, out, parent_kind)
            continue
        core = declared_node(child) if child_type in DECLARATION_TYPES or child_type in WRAPPER_TYPES else None
        if core is None:
            continue
        name = declared_name(core)
        if not name:
            continue
        kind = DECLARATION_TYPES.get(core.type, "function")
        if kind == "function" and parent_kind in CONTAINER_KINDS:
            kind = "method"
        out.append(Definition(
            name=name, qualname=".".join((*scope, name)), kind=kind,
            line=child.start_point[0] + 1, end_line=child.end_point[0] + 1,
            signature=_short(signature(data, core)), depth=depth,
        ))  # fmt: skip
        if kind in CONTAINER_KINDS:
            for body_child in core.children:
                if body_child.type in BODY_TYPES:
                    _walk(data, body_child, (*scope, name), depth + 1, out, kind)


def _markdown_definitions(text: str) -> list[Definition]:
    definitions: list[Definition] = []
    in_fence = False
    for number, line in enumerate(text.splitlines(), 1):
        if line.lstrip().startswith(("```", "~~~")):
            in_fence = not in_fence
            continue
        match = None if in_fence else _HEADING.match(line)
        if match:
            level = len(match.group(1))
            title = match.group(2).strip()
            definitions.append(Definition(
                name=title, qualname=title, kind="heading", line=number, end_line=number,
                signature=line.strip(), depth=level - 1,
            ))  # fmt: skip
    return definitions


def file_outline(document: Document) -> FileOutline | None:
    """The definitions of one document, or None when it is neither parsed code nor Markdown."""
    language = document_language(document)
    path = document.path or document.id
    if language is None:
        return None
    if language == MARKDOWN:
        return FileOutline(path=path, language=language, definitions=_markdown_definitions(document.text))
    try:
        parser = get_parser(language)
    except SplitError as exc:
        log.warning("%s: %s; left out of the outline", path, exc)
        return None
    data = document.text.encode("utf-8", "surrogatepass")
    definitions: list[Definition] = []
    _walk(data, parser.parse(data).root_node, (), 0, definitions)
    return FileOutline(path=path, language=language, definitions=definitions)


def _rank(outlines: list[FileOutline], documents: dict[str, Document]) -> None:
    """Score each definition by the number of other files that mention its name, shared
    among the files that define the same name (a `split` defined in three files gets a
    third each); members count half, private names half again, dunders nothing."""
    mentions: dict[str, Counter[str]] = {
        path: Counter(_IDENTIFIER.findall(doc.text)) for path, doc in documents.items()
    }
    files_mentioning: Counter[str] = Counter()
    for counts in mentions.values():
        files_mentioning.update(counts.keys())
    files_defining: Counter[str] = Counter()
    for outline in outlines:
        files_defining.update({d.name.split(".")[-1] for d in outline.definitions})
    for outline in outlines:
        own = mentions.get(outline.path, Counter())
        for definition in outline.definitions:
            name = definition.name.split(".")[-1]
            elsewhere = files_mentioning.get(name, 0) - (1 if own.get(name) else 0)
            score = elsewhere / max(1, files_defining[name]) + 0.1 * max(own.get(name, 0) - 1, 0)
            if definition.depth:
                score *= 0.5
            if name.startswith("_"):
                score *= 0.5
            if name.startswith("__") and name.endswith("__"):
                score = 0.0
            definition.score = score + 1.0 / (1 + definition.depth)


def _select(outlines: list[FileOutline], keep: set[tuple[int, int]]) -> list[FileOutline]:
    """The outline restricted to kept definitions, plus the containers above each one."""
    selected: list[FileOutline] = []
    for file_index, outline in enumerate(outlines):
        chosen: list[Definition] = []
        stack: list[tuple[int, Definition]] = []
        shown_parents: set[int] = set()
        for index, definition in enumerate(outline.definitions):
            while stack and stack[-1][1].depth >= definition.depth:
                stack.pop()
            if (file_index, index) in keep:
                for parent_index, parent in stack:
                    if parent_index not in shown_parents:
                        shown_parents.add(parent_index)
                        chosen.append(parent)
                shown_parents.add(index)
                chosen.append(definition)
            stack.append((index, definition))
        if chosen:
            chosen.sort(key=lambda d: (d.line, d.depth))
            selected.append(FileOutline(path=outline.path, language=outline.language, definitions=chosen))
    return selected


def build_outline(
    documents: Iterable[Document],
    budget: int | None = None,
    *,
    counter: TokenCounter | None = None,
    encoding: str = DEFAULT_ENCODING,
) -> Outline:
    """The outline of `documents`, cut to at most `budget` tokens (None: everything).

    Files without definitions (prose, unknown languages) are left out.
    """
    count = counter or token_counter(encoding)
    by_path = {(doc.path or doc.id): doc for doc in documents}
    outlines = [o for doc in by_path.values() if (o := file_outline(doc)) and o.definitions]
    total = sum(len(o.definitions) for o in outlines)
    full_text = render_outline(outlines)
    full_tokens = count(full_text) if outlines else 0
    if budget is None or full_tokens <= budget:
        return Outline(files=outlines, budget=budget, tokens=full_tokens,
                       total_definitions=total, shown_definitions=total)  # fmt: skip
    _rank(outlines, by_path)
    order = sorted(
        ((f, i) for f, o in enumerate(outlines) for i in range(len(o.definitions))),
        key=lambda key: -outlines[key[0]].definitions[key[1]].score,
    )
    best: list[FileOutline] = []
    best_tokens = 0
    low, high = 0, len(order)
    while low < high:  # the most definitions whose outline fits
        middle = (low + high + 1) // 2
        candidate = _select(outlines, set(order[:middle]))
        tokens = count(render_outline(candidate))
        if tokens <= budget:
            low, best, best_tokens = middle, candidate, tokens
        else:
            high = middle - 1
    shown = sum(len(o.definitions) for o in best)
    return Outline(files=best, budget=budget, tokens=best_tokens,
                   total_definitions=total, shown_definitions=shown)  # fmt: skip
