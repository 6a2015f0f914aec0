"""Chain-of-Agents (Zhang et al., NeurIPS 2024) as a LangGraph graph: split, workers, manager.

Workers read the chunks in order, each with the notes of the worker before it; a manager
answers from the last notes. Two strategies share one graph:

- `chain` (the paper): one group holding every chunk, read one after the other.
- `hierarchical`: the chunks are cut into about √n contiguous groups; the groups' chains
  advance together, one worker per group per round (run concurrently, at most
  `settings.concurrency` calls in flight), and the manager merges the groups' final notes.

The graph state holds chunk references (ids, offsets, lines), notes and call records,
never chunk text: the text stays in memory beside the graph. A checkpointed run that
crashes resumes where it stopped (see `run`).

    models      the task, the prepared run, its plan and progress events
    budget      the token budget: chunk size, notes and output reserves per window
    order       the order in which documents are read
    prepare     budget, chunks in reading order, bundles of small files, groups
    graph       the LangGraph graph and its state
    citations   where the final notes' evidence came from
    run         the graph run with its checkpointer, and the result
"""

from .models import (
    STRATEGIES,
    ChainPlan,
    ChainRun,
    ChainTask,
    ProgressCallback,
    ProgressEvent,
    summary_mode,
)
from .prepare import prepare
from .run import aexecute, execute

__all__ = [
    "STRATEGIES",
    "ChainPlan",
    "ChainRun",
    "ChainTask",
    "ProgressCallback",
    "ProgressEvent",
    "aexecute",
    "execute",
    "prepare",
    "summary_mode",
]
