"""What a Chain-of-Agents run is asked and what it decides before the first call: the task,
the prepared run (budget, chunks, workers' units, groups), its plan and progress events."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel

from ...agents.evidence import Mode
from ...agents.manager import MANAGER_PROMPTS
from ...agents.worker import WORKER_PROMPTS, bundle_text
from ...documents import Chunk, Document
from ...prompts import load_prompt
from ...tokens import TokenCounter, token_counter
from .budget import ChainBudget

Strategy = Literal["chain", "hierarchical"]
STRATEGIES: tuple[str, ...] = ("chain", "hierarchical")

PIPELINE_VERSION = "coa-3"
"""Part of the checkpoint key: bump it when a change makes old checkpoints meaningless."""

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


def summary_mode(documents: Sequence[Document]) -> Mode:
    """`repository` when any document is code, else `book` (prose, in text order)."""
    return "repository" if any(d.kind == "code" for d in documents) else "book"



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
        """The checkpoint thread id: a hash of everything that determines the calls.
        `model_name`: the model's identity (`llm.identity.model_identity`)."""
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
