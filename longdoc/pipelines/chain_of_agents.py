"""Chain-of-Agents (Zhang et al., NeurIPS 2024) as a LangGraph graph: split, workers, manager.

Workers read the chunks in order, each with the notes of the worker before it; a manager
answers from the last notes. Two strategies share one graph:

- `chain` (the paper): one group holding every chunk, read one after the other.
- `hierarchical`: the chunks are cut into about √n contiguous groups; the groups' chains
  advance together, one worker per group per round (run concurrently, at most
  `settings.concurrency` calls in flight), and the manager merges the groups' final notes.

The graph state holds chunk references (ids, offsets, lines), notes and call records,
never chunk text: the text stays in memory beside the graph. With the cache on, a
SQLite checkpointer in the cache directory saves the state after every round under a key
hashed from the inputs, so a run that crashes at worker k and is started again resumes
at worker k and repeats no completed model call (langgraph also keeps the writes of the
workers of a round that finished before another failed).
"""

from __future__ import annotations

import hashlib
import json
import math
import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal, TypedDict

from langgraph.checkpoint.memory import InMemorySaver
from langgraph.graph import END, START, StateGraph
from langgraph.types import Send
from pydantic import BaseModel

from ..agents.evidence import Mode
from ..agents.manager import (
    DEFAULT_SUMMARY_WORDS,
    MANAGER_PROMPTS,
    ManagerAgent,
    summary_tokens,
)
from ..agents.notes import Notes, notes_from_dict
from ..agents.worker import (
    WORKER_PROMPTS,
    WorkerAgent,
    bundle_label,
    bundle_text,
    chunk_label,
    focus_values,
    request_tokens,
)
from ..config import Settings
from ..documents import Chunk, Document, LineIndex
from ..errors import PipelineError
from ..llm.base import Completion, Model, RunUsage
from ..llm.identity import model_identity
from ..llm.profiles import BASE, ModelProfile, profile_of
from ..prompts import load_prompt
from ..results import AnswerResult, Citation, EvidenceQuote
from ..tokens import TokenCounter, count_tokens, token_counter
from .budget import MANAGER_OUTPUT_QUESTION, ChainBudget, plan_budget
from .order import reading_order

Strategy = Literal["chain", "hierarchical"]
STRATEGIES: tuple[str, ...] = ("chain", "hierarchical")

PIPELINE_VERSION = "coa-3"
"""Part of the checkpoint key: bump it when a change makes old checkpoints meaningless."""

CHECKPOINT_FILE = "chain_of_agents.sqlite"

MIN_GROUP_NOTES = 96
"""Tokens of notes each group must keep in the merged notes for the manager to use them;
it bounds how many groups a window allows."""

LABEL_MARGIN = 24
"""Tokens added to the measured instruction for a chunk label longer than the one measured
(a code symbol, a section title the splitter found)."""

STEPS_PER_ROUND = 2
"""Supersteps per round of workers: the workers, then the bookkeeping node."""


@dataclass(frozen=True)
class ChainTask:
    """What the chain reads for: a question, or a summary (of a book or a repository)."""

    mode: Mode
    question: str = ""
    words: int | None = None
    focus: str | None = None

    @property
    def query(self) -> str:
        """The text every worker prompt repeats (and the budget must count)."""
        return self.question if self.mode == "question" else (self.focus or "")


class ProgressEvent(BaseModel):
    """Reported after every model call, for progress displays."""

    stage: Literal["worker", "manager"]
    done: int
    total: int
    source: str
    prompt_tokens: int
    completion_tokens: int
    elapsed_s: float
    cached: bool = False


ProgressCallback = Callable[[ProgressEvent], None]


class ChainPlan(BaseModel):
    """Everything decided before the first model call (what --dry-run prints)."""

    strategy: str
    mode: str
    window: int
    chunk_tokens: int
    notes_cap: int
    worker_notes: int = 0
    """Tokens of notes each worker reads (the latest entries only, for a summary)."""
    worker_output: int
    manager_output: int
    document_tokens: int
    chunks: int
    workers: int
    """Worker calls: chunks, less those bundled together (small files share a worker)."""
    groups: list[list[int]]
    calls: int
    prompt_tokens: int
    """An upper bound: every worker after the first of its group is counted with all the
    notes it may read."""
    completion_tokens: int | None = None
    """An upper bound: every worker and the manager writing as much as they may."""
    cost_usd: float | None = None
    """The upper bounds priced, where the model's price is known (hosted models)."""

    def summary(self) -> dict[str, Any]:
        data = self.model_dump(exclude={"groups"})
        data["groups"] = len(self.groups)
        return data


def _merge_latest(left: dict[str, Any], right: dict[str, Any]) -> dict[str, Any]:
    return {**left, **right}


USAGE_KEYS = ("calls", "cached_calls", "prompt_tokens", "completion_tokens")


def _add_usage(left: dict[str, Any], right: dict[str, Any]) -> dict[str, Any]:
    total = {k: left.get(k, 0) + right.get(k, 0) for k in USAGE_KEYS}
    costs = [c for c in (left.get("cost_usd"), right.get("cost_usd")) if c is not None]
    total["cost_usd"] = sum(costs) if costs else None
    return total


class ChainState(TypedDict, total=False):
    """Graph state: references and notes only, never chunk text."""

    chunks: list[dict[str, Any]]
    units: list[list[int]]
    groups: list[list[int]]
    round: int
    latest: Annotated[dict[str, Any], _merge_latest]
    """Per group: the position of its last worker and that worker's notes. Only the latest
    notes are state; earlier ones live in the checkpoint history, so a step's checkpoint
    stays small however long the chain (the notes trail is read back from the history)."""
    usage: Annotated[dict[str, Any], _add_usage]
    answer: str
    manager: dict[str, Any]


def chunk_ref(position: int, chunk: Chunk) -> dict[str, Any]:
    """What the state keeps of a chunk: where it is, not what it says."""
    return {
        "position": position,
        "doc_id": chunk.doc_id,
        "index": chunk.index,
        "start": chunk.start,
        "end": chunk.end,
        "tokens": chunk.tokens,
        "lines": list(chunk.lines),
        "source": chunk.source,
        "section": chunk.meta.get("section") or chunk.meta.get("symbol"),
    }


def make_groups(n: int, strategy: str, max_groups: int) -> list[list[int]]:
    """Chunk positions per group: one group for `chain`, about √n contiguous ones otherwise."""
    if n == 0:
        return []
    if strategy == "chain":
        return [list(range(n))]
    count = max(1, min(n, max_groups, math.ceil(math.sqrt(n))))
    size = math.ceil(n / count)
    return [list(range(i, min(n, i + size))) for i in range(0, n, size)]


def summary_mode(documents: Sequence[Document]) -> Mode:
    """`repository` when any document is code, else `book` (prose, in text order)."""
    return "repository" if any(d.kind == "code" for d in documents) else "book"


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


def split_documents(
    documents: Sequence[Document], chunk_tokens: int, *, splitter: str = "auto"
) -> list[Chunk]:
    """Every document's chunks, documents in reading order, chunks in text order."""
    from ..splitters import split_document

    chunks: list[Chunk] = []
    for doc in reading_order(documents):
        body = doc.body
        lines = LineIndex(doc.text) if body != (0, len(doc.text)) else None
        for chunk in split_document(doc, chunk_tokens, splitter=splitter):
            if lines is not None:
                chunk = within(chunk, doc, body, lines)
                if chunk is None:
                    continue
            if "path" not in chunk.meta and doc.path:
                chunk = chunk.model_copy(update={"meta": {**chunk.meta, "path": doc.path}})
            chunks.append(chunk)
    return chunks


def within(chunk: Chunk, doc: Document, body: tuple[int, int], lines: LineIndex) -> Chunk | None:
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

@dataclass
class ChainRun:
    """One prepared run: the task, budget, chunks (text kept here, not in the graph) and groups."""

    task: ChainTask
    strategy: str
    budget: ChainBudget
    chunks: list[Chunk]
    units: list[list[int]]
    """Chunk positions each worker reads: one chunk, or a bundle of small files."""
    groups: list[list[int]]
    """Unit positions per group (one group for `chain`)."""
    documents: dict[str, Document] = field(default_factory=dict)
    counter: TokenCounter = field(default_factory=token_counter)

    @property
    def rounds(self) -> int:
        return max((len(g) for g in self.groups), default=0)

    def bundle(self, unit: int) -> list[Chunk]:
        return [self.chunks[i] for i in self.units[unit]]

    def recursion_limit(self) -> int:
        """Supersteps the graph may take: split, two per round, manager, and a margin."""
        return STEPS_PER_ROUND * self.rounds + 6

    def plan(self) -> ChainPlan:
        b = self.budget
        worker_tokens = 0
        for group in self.groups:
            for k, unit in enumerate(group):
                notes = b.worker_notes if k else 0
                material = self.counter(bundle_text(self.bundle(unit)))
                worker_tokens += b.instruction + b.query + material + notes
        manager_tokens = b.instruction + b.query + min(b.manager_notes, b.notes_cap * len(self.groups))
        return ChainPlan(
            strategy=self.strategy,
            mode=self.task.mode,
            window=b.window,
            chunk_tokens=b.chunk_tokens,
            notes_cap=b.notes_cap,
            worker_notes=b.worker_notes,
            worker_output=b.worker_output,
            manager_output=b.manager_output,
            document_tokens=sum(c.tokens for c in self.chunks),
            chunks=len(self.chunks),
            workers=len(self.units),
            groups=self.groups,
            calls=len(self.units) + 1,
            prompt_tokens=worker_tokens + manager_tokens,
            completion_tokens=len(self.units) * b.worker_output + b.manager_output,
        )

    def key(self, model_name: str) -> str:
        """`model_name`: the model's identity (`llm.cache.model_identity`)."""
        """The checkpoint thread id: a hash of everything that determines the calls."""
        digest = hashlib.sha256()
        parts: list[Any] = [
            PIPELINE_VERSION, self.strategy, self.task.mode, self.task.question,
            self.task.words, self.task.focus, model_name, self.budget.__dict__, self.units, self.groups,
            [load_prompt(WORKER_PROMPTS[self.task.mode]).__dict__, load_prompt(MANAGER_PROMPTS[self.task.mode]).__dict__],
        ]
        digest.update(json.dumps(parts, sort_keys=True, default=str).encode())
        for chunk in self.chunks:
            digest.update(f"\0{chunk.doc_id}\0{chunk.start}\0{chunk.end}\0".encode())
            digest.update(chunk.text.encode("utf-8", "surrogatepass"))
        return f"coa-{digest.hexdigest()[:32]}"


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
        chunk_list = split_documents(documents, budget.chunk_tokens, splitter=splitter)
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


def usage_record(completion: Completion) -> dict[str, Any]:
    """One call's usage, counted as RunUsage counts it (cached calls cost nothing)."""
    usage = RunUsage()
    usage.add(completion)
    return usage.model_dump()


def build_graph(
    run: ChainRun,
    model: Model,
    *,
    progress: ProgressCallback | None = None,
    clock: dict[str, float] | None = None,
    trail: dict[int, str] | None = None,
):
    """The StateGraph: split → (workers → advance)* → manager. Agents know nothing of it."""
    b = run.budget
    task = run.task
    worker = WorkerAgent(
        model, mode=task.mode, notes_cap=b.notes_cap, max_tokens=b.worker_output,
        counter=run.counter, window=b.window, focus=task.focus,
        view_cap=b.worker_notes if task.mode != "question" else None,
    )
    manager = ManagerAgent(
        model, mode=task.mode, max_tokens=b.manager_output, counter=run.counter,
        notes_cap=b.manager_notes, window=b.window, words=task.words, focus=task.focus,
    )
    total = len(run.units)
    started = time.perf_counter()
    lock = threading.Lock()
    done = [0]
    clock = clock if clock is not None else {}
    trail = trail if trail is not None else {}

    def split(state: ChainState) -> dict[str, Any]:
        return {
            "chunks": [chunk_ref(i, c) for i, c in enumerate(run.chunks)],
            "units": run.units,
            "groups": run.groups,
            "round": 0,
            "latest": {},
        }

    def route(state: ChainState) -> list[Send] | str:
        k = state.get("round", 0)
        latest = state.get("latest", {})
        sends = []
        for g, group in enumerate(state["groups"]):
            if k < len(group):
                previous = latest[str(g)]["notes"] if k else None
                sends.append(Send("worker", {"position": group[k], "group": g, "previous": previous}))
        return sends or "manager"

    def work(payload: dict[str, Any]) -> dict[str, Any]:
        position = payload["position"]
        bundle = run.bundle(position)
        t0 = time.perf_counter()
        result = worker.run(
            bundle, notes_from_dict(payload["previous"]), question=task.question,
            position=position + 1, total=total,
        )
        with lock:
            clock["workers_s"] = clock.get("workers_s", 0.0) + time.perf_counter() - t0
            trail[position] = result.notes.text
            done[0] += 1
            count = done[0]
        if progress:
            progress(ProgressEvent(
                stage="worker", done=count, total=total, source=bundle_label(bundle),
                prompt_tokens=result.completion.usage.prompt_tokens,
                completion_tokens=result.completion.usage.completion_tokens,
                elapsed_s=time.perf_counter() - started, cached=result.completion.cached,
            ))
        return {
            "latest": {str(payload["group"]): {"position": position, "notes": result.notes.model_dump(mode="json")}},
            "usage": usage_record(result.completion),
        }

    def advance(state: ChainState) -> dict[str, Any]:
        return {"round": state.get("round", 0) + 1}

    def manage(state: ChainState) -> dict[str, Any]:
        finals = final_notes(state)
        t0 = time.perf_counter()
        result = manager.run(finals, question=task.question)
        clock["manager_s"] = clock.get("manager_s", 0.0) + time.perf_counter() - t0
        if progress:
            progress(ProgressEvent(
                stage="manager", done=total, total=total, source="manager",
                prompt_tokens=result.completion.usage.prompt_tokens,
                completion_tokens=result.completion.usage.completion_tokens,
                elapsed_s=time.perf_counter() - started, cached=result.completion.cached,
            ))
        return {
            "answer": result.answer,
            "manager": {
                "notes": result.notes_text, "fallback": result.fallback, "grounded": result.grounded,
                "raw": result.raw,
            },
            "usage": usage_record(result.completion),
        }

    graph = StateGraph(ChainState)
    graph.add_node("split", split)
    graph.add_node("worker", work)
    graph.add_node("advance", advance)
    graph.add_node("manager", manage)
    graph.add_edge(START, "split")
    graph.add_conditional_edges("split", route, ["worker", "manager"])
    graph.add_edge("worker", "advance")
    graph.add_conditional_edges("advance", route, ["worker", "manager"])
    graph.add_edge("manager", END)
    return graph


@contextmanager
def open_checkpointer(settings: Settings | None):
    """SQLite checkpoints in the cache directory; in memory when the cache is off."""
    if settings is None or not settings.cache:
        yield InMemorySaver()
        return
    from langgraph.checkpoint.sqlite import SqliteSaver

    folder = Path(settings.cache_dir)
    folder.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(folder / CHECKPOINT_FILE, check_same_thread=False)
    try:
        yield SqliteSaver(conn)
    finally:
        conn.close()


def citations_of(run: ChainRun, finals: Sequence[Notes]) -> list[Citation]:
    """Where the final notes' evidence came from: each kept sentence's span (or, for a note
    without evidence, its chunk), with lines and section; in reading order, no duplicates."""
    by_index = {(c.source, c.index): c for c in run.chunks}
    seen: set[tuple[str, int, int]] = set()
    citations: list[Citation] = []
    for notes in finals:
        for entry in notes.entries:
            spans = [(ev.start, ev.end, ev.lines) for ev in entry.evidence]
            chunk = by_index.get((entry.source, entry.chunk))
            if not spans and chunk is not None:
                spans = [(chunk.start, chunk.end, chunk.lines)]
            for start, end, lines in spans:
                key = (entry.source, start, end)
                if key not in seen:
                    seen.add(key)
                    citations.append(Citation(
                        source=entry.source, start=start, end=end, lines=tuple(lines), section=entry.section,
                    ))
    return citations


def final_notes(values: dict[str, Any]) -> list[Notes]:
    """Each group's last notes, in group order."""
    latest = values.get("latest", {})
    return [notes_from_dict(latest[str(g)]["notes"]) for g in range(len(values.get("groups", []))) if str(g) in latest]


def notes_trail(app: Any, config: dict[str, Any]) -> list[str]:
    """The notes after every worker, in reading order, read back from the checkpoints."""
    found: dict[int, str] = {}
    for snapshot in app.get_state_history(config):
        for entry in snapshot.values.get("latest", {}).values():
            found.setdefault(entry["position"], entry["notes"].get("text", ""))
    return [found[p] for p in sorted(found)]


def evidence_of(run: ChainRun, finals: Sequence[Notes], limit: int = 2) -> list[EvidenceQuote]:
    """A question's best evidence in the final notes, verbatim with its citation, best
    first: the sentences the workers scored highest for the question."""
    if run.task.mode != "question":
        return []
    quotes = [
        (ev.score, EvidenceQuote(
            text=ev.text, source=entry.source, start=ev.start, end=ev.end, lines=tuple(ev.lines),
            section=entry.section,
        ))
        for notes in finals for entry in notes.entries for ev in entry.evidence
    ]
    quotes.sort(key=lambda q: -q[0])
    seen: set[tuple[str, int]] = set()
    best = []
    for _, quote in quotes:
        if (quote.source, quote.start) not in seen:
            seen.add((quote.source, quote.start))
            best.append(quote)
    return best[:limit]


def _result(
    run: ChainRun, values: dict[str, Any], trail: list[str], timings: dict[str, float], profile: ModelProfile
) -> AnswerResult:
    manager = values.get("manager") or {}
    finals = final_notes(values)
    return AnswerResult(
        answer=values.get("answer", ""),
        strategy=run.strategy,
        chunks=len(run.chunks),
        citations=citations_of(run, finals),
        usage=RunUsage.model_validate(values.get("usage") or {}),
        timings=timings,
        notes=trail,
        profile=profile.name,
        grounded=manager.get("grounded"),
        fallback=bool(manager.get("fallback")),
        raw_answer=manager.get("raw"),
        evidence=evidence_of(run, finals),
    )


def execute(
    run: ChainRun,
    model: Model,
    *,
    settings: Settings | None = None,
    progress: ProgressCallback | None = None,
) -> AnswerResult:
    """Run (or resume) the graph for a prepared run and return its result.

    A run whose checkpoint is complete returns its stored result with no model call; one
    that stopped part-way continues from its last saved round.
    """
    started = time.perf_counter()
    clock: dict[str, float] = {}
    seen: dict[int, str] = {}
    graph = build_graph(run, model, progress=progress, clock=clock, trail=seen)
    concurrency = settings.concurrency if settings is not None else 1
    with open_checkpointer(settings) as saver:
        app = graph.compile(checkpointer=saver)
        config = {
            "configurable": {"thread_id": run.key(model_identity(model))},
            "recursion_limit": run.recursion_limit(),
            "max_concurrency": concurrency,
        }
        snapshot = app.get_state(config)
        if snapshot.values and not snapshot.next and "answer" in snapshot.values:
            values = snapshot.values
        else:
            values = app.invoke(None if snapshot.next else {}, config)
        # Notes written in this process are at hand; a resumed run reads the rest back.
        trail = [seen[p] for p in sorted(seen)] if len(seen) == len(run.units) else notes_trail(app, config)
    timings = {"total_s": round(time.perf_counter() - started, 3)}
    timings.update({k: round(v, 3) for k, v in clock.items()})
    return _result(run, values, trail, timings, profile_of(model))
