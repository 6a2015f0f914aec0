"""Getting a Chain-of-Agents run ready before any model call: the instructions measured, the
budget planned, the documents cut into chunks in reading order (a book narrowed to its body),
small files bundled to share a worker, and the workers grouped."""

from __future__ import annotations

import math
from collections.abc import Sequence

from ...agents.manager import DEFAULT_SUMMARY_WORDS, MANAGER_PROMPTS, summary_tokens
from ...agents.worker import (
    WORKER_PROMPTS,
    bundle_label,
    bundle_text,
    chunk_label,
    focus_values,
    request_tokens,
)
from ...documents import Chunk, Document, LineIndex
from ...errors import PipelineError
from ...llm.profiles import BASE, ModelProfile
from ...prompts import load_prompt
from ...tokens import TokenCounter, count_tokens, token_counter
from .budget import MANAGER_OUTPUT_QUESTION, plan_budget
from .models import STRATEGIES, ChainRun, ChainTask
from .order import reading_order

MIN_GROUP_NOTES = 96
"""Tokens of notes each group must keep in the merged notes for the manager to use them;
it bounds how many groups a window allows."""

LABEL_MARGIN = 24
"""Tokens added to the measured instruction for a chunk label longer than the one measured
(a code symbol, a section title the splitter found)."""


def make_groups(n: int, strategy: str, max_groups: int) -> list[list[int]]:
    """Chunk positions per group: one group for `chain`, about √n contiguous ones otherwise."""
    if n == 0:
        return []
    if strategy == "chain":
        return [list(range(n))]
    count = max(1, min(n, max_groups, math.ceil(math.sqrt(n))))
    size = math.ceil(n / count)
    return [list(range(i, min(n, i + size))) for i in range(0, n, size)]


def _template_overhead(name: str, counter: TokenCounter, **values: object) -> int:
    template = load_prompt(name)
    request = template.request(max_tokens=1, **values)
    return request_tokens(request, counter)


def measure_instructions(
    task: ChainTask, labels: Sequence[str], counter: TokenCounter
) -> tuple[int, int]:
    """(worker, manager) prompt tokens without chunk, notes and query, counted on the
    longest rendering with the longest chunk label and the framing of the notes."""
    label = max(labels, key=counter, default="")
    focus = focus_values(task.focus)
    worker = _template_overhead(
        WORKER_PROMPTS[task.mode], counter, question="", notes="(none yet)",
        notes_block="Notes from earlier parts:\n\n\n", chunk="", source=label,
        position=99999, total=99999, seed="This repository", **focus,
    )
    manager = _template_overhead(
        MANAGER_PROMPTS[task.mode], counter, notes="(the readers found nothing relevant)",
        question="", words=task.words or DEFAULT_SUMMARY_WORDS, seed="This repository", **focus,
    )
    # Labels of code chunks may also name a symbol the document's sections do not show;
    # the notes carry one label per entry, counted within the notes cap, not here.
    return worker + LABEL_MARGIN, manager + LABEL_MARGIN


def _label_for(path: str, lines: tuple[int, int], section: str | None) -> str:
    label = f"{path}, lines {lines[0]}-{lines[1]}"
    return f"{label} ({section})" if section else label


def chunks_in_reading_order(
    documents: Sequence[Document], chunk_tokens: int, *, splitter: str = "auto"
) -> list[Chunk]:
    """The chunks the workers read: documents in reading order, chunks in text order, each
    cut to its document's body (a book without its header and licence) and carrying its
    document's path. `splitters.split_documents` only splits, in the order given."""
    from ...splitters import split_document

    chunks: list[Chunk] = []
    for doc in reading_order(documents):
        body = doc.body
        lines = LineIndex(doc.text) if body != (0, len(doc.text)) else None
        for chunk in split_document(doc, chunk_tokens, splitter=splitter):
            if lines is not None:
                chunk = narrowed_to_body(chunk, doc, body, lines)
                if chunk is None:
                    continue
            if "path" not in chunk.meta and doc.path:
                chunk = chunk.model_copy(update={"meta": {**chunk.meta, "path": doc.path}})
            chunks.append(chunk)
    return chunks


def narrowed_to_body(chunk: Chunk, doc: Document, body: tuple[int, int], lines: LineIndex) -> Chunk | None:
    """`chunk` cut to `body`: None when it lies outside, narrowed when it straddles an edge
    (its section then is the one where the narrowed chunk starts)."""
    start, end = max(chunk.start, body[0]), min(chunk.end, body[1])
    if start >= end or not doc.text[start:end].strip():
        return None
    if (start, end) == (chunk.start, chunk.end):
        return chunk
    piece = doc.text[start:end]
    meta = dict(chunk.meta)
    if "section" in meta:
        titles = [s.title for s in doc.sections if s.start <= start]
        meta["section"] = titles[-1] if titles else None
        if meta["section"] is None:
            del meta["section"]
    return chunk.model_copy(update={
        "start": start, "end": end, "text": piece, "tokens": count_tokens(piece),
        "lines": lines.span(start, end), "meta": meta,
    })



def prepare(
    documents: Sequence[Document],
    task: ChainTask,
    *,
    window: int,
    strategy: str = "chain",
    chunks: Sequence[Chunk] | None = None,
    splitter: str = "auto",
    counter: TokenCounter | None = None,
    profile: ModelProfile = BASE,
) -> ChainRun:
    """Budget, split and group: everything a run (or a dry run) needs before a model call.

    `chunks` may be given already split (tests, callers with their own splitter); each
    must then fit the budget's chunk size.
    """
    if strategy not in STRATEGIES:
        raise PipelineError(f"unknown strategy {strategy!r}; choose one of {', '.join(STRATEGIES)}", stage="plan")
    counter = counter or token_counter()
    if chunks is None:
        labels = [
            _label_for(d.path or d.id, (999999, 999999), max((s.title for s in d.sections), key=len, default=None))
            for d in documents
        ]
    else:
        labels = [_label_for(c.source, c.lines, c.meta.get("section") or c.meta.get("symbol")) for c in chunks]
    worker_instruction, manager_instruction = measure_instructions(task, labels, counter)
    manager_output = (
        MANAGER_OUTPUT_QUESTION if task.mode == "question" else summary_tokens(task.words or DEFAULT_SUMMARY_WORDS)
    )
    budget = plan_budget(
        window,
        instruction_tokens=worker_instruction,
        query_tokens=counter(task.query),
        manager_instruction_tokens=manager_instruction,
        manager_output=manager_output,
        summary=task.mode != "question",
        rewrite_notes=task.mode == "question" and not profile.repair_output,
        reasoning=profile.reasoning_tokens,
    )
    if chunks is None:
        chunk_list = chunks_in_reading_order(documents, budget.chunk_tokens, splitter=splitter)
    else:
        chunk_list = list(chunks)
    for chunk in chunk_list:
        tokens = counter(chunk.text)
        if tokens > budget.chunk_tokens:
            raise PipelineError(
                f"chunk {chunk.index} of {chunk.source} has {tokens} tokens, over the "
                f"{budget.chunk_tokens}-token chunk budget of a {window}-token window",
                stage="split",
            )
    max_groups = max(1, budget.manager_notes // MIN_GROUP_NOTES)
    units = pack_units(chunk_list, budget.chunk_tokens, counter)
    return ChainRun(
        task=task,
        strategy=strategy,
        budget=budget,
        chunks=chunk_list,
        units=units,
        groups=make_groups(len(units), strategy, max_groups),
        documents={d.id: d for d in documents},
        counter=counter,
    )


def _bundle_cost(bundle: list[Chunk], counter: TokenCounter) -> int:
    """Tokens a bundle takes in the chunk budget: its text with labels, and how much its
    label exceeds the single-chunk label the instruction was measured with."""
    extra = max(0, counter(bundle_label(bundle)) - counter(chunk_label(bundle[0])))
    return counter(bundle_text(bundle)) + extra


def pack_units(chunks: Sequence[Chunk], limit: int, counter: TokenCounter) -> list[list[int]]:
    """Consecutive chunks of different documents share a worker while they fit `limit`
    (a repository's many small files); chunks of one document never do, since the
    splitter already made them as large as the budget allows."""
    units: list[list[int]] = []
    for i, chunk in enumerate(chunks):
        if units:
            last = units[-1]
            if chunks[last[-1]].doc_id != chunk.doc_id:
                trial = [chunks[j] for j in last] + [chunk]
                if _bundle_cost(trial, counter) <= limit:
                    last.append(i)
                    continue
        units.append([i])
    return units
