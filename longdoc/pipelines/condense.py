"""Fitting a repository into a reading budget, for summaries on slow models.

Reading every token of a large repository on the embedded model takes the better part of
an hour on two cores. A summary does not need every function body: it needs what the
project says about itself, what each module is for, and what it offers. Within `budget`
tokens, in this order of priority:

1. the README and other documentation, each from its beginning (30% of the budget);
2. the repository outline: every file's definitions (signatures with line numbers),
   ranked by how often other files mention them when they do not all fit (30%);
3. the head of each source file (its docstring, imports and first definitions), in
   reading order, tests last, sharing the rest.

Documentation and heads are prefixes of the real files, so citations keep pointing at
real spans; the outline is one extra document named `OUTLINE_PATH`.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..documents import Document
from ..splitters import split_document
from ..splitters.outline import build_outline
from ..tokens import TokenCounter, token_counter
from .chain.order import reading_order, reading_rank

OUTLINE_PATH = "(repository outline)"

DOCS_SHARE = 0.3
OUTLINE_SHARE = 0.3

MIN_HEAD_TOKENS = 120
"""A file head shorter than this holds little beyond imports; below it, fewer files are read."""


def _prefix(doc: Document, tokens: int) -> Document | None:
    """The document cut to its first `tokens` tokens (at a natural boundary), same id."""
    if tokens <= 0:
        return None
    chunks = split_document(doc, tokens, splitter="token")
    if not chunks:
        return None
    head = chunks[0]
    if head.end >= len(doc.text):
        return doc
    return doc.model_copy(update={"text": doc.text[: head.end], "meta": {**doc.meta, "cut_at": head.end}})


def condense_repository(
    documents: Sequence[Document], budget: int, *, counter: TokenCounter | None = None
) -> list[Document]:
    """At most about `budget` tokens of `documents`, chosen as the module docstring says."""
    counter = counter or token_counter()
    ordered = reading_order(documents)
    sizes = {d.id: counter(d.text) for d in ordered}
    if sum(sizes.values()) <= budget:
        return ordered
    chosen: list[Document] = []
    used = 0

    docs = [d for d in ordered if reading_rank(d.path) <= 1]
    docs_budget = int(budget * DOCS_SHARE)
    for doc in docs:
        room = docs_budget - used
        part = doc if sizes[doc.id] <= room else _prefix(doc, room)
        if part is None:
            break
        chosen.append(part)
        used += counter(part.text)

    code = [d for d in ordered if d.kind == "code"]
    outline = build_outline(code, int(budget * OUTLINE_SHARE), counter=counter) if code else None
    if outline is not None and outline.files:
        text = outline.render()
        chosen.append(Document.from_text(text, path=OUTLINE_PATH, kind="text"))
        used += counter(text)

    rest = [d for d in ordered if reading_rank(d.path) >= 2]
    remaining = budget - used
    if rest and remaining > 0:
        share = max(MIN_HEAD_TOKENS, remaining // len(rest))
        for doc in rest:
            room = min(share, budget - used)
            if room < MIN_HEAD_TOKENS // 2:
                break
            part = doc if sizes[doc.id] <= room else _prefix(doc, room)
            if part is not None:
                chosen.append(part)
                used += counter(part.text)
    return chosen
