"""Running a prepared Chain-of-Agents run: the graph with its checkpointer, resumed where a
crashed run stopped, and the `AnswerResult` made from its final state.

With the cache on, a SQLite checkpointer in the cache directory saves the state after every
round under a key hashed from the inputs (`ChainRun.key`), so a run that crashes at worker k
and is started again resumes at worker k and repeats no completed model call (langgraph
also keeps the writes of the workers of a round that finished before another failed).
`aexecute` is the one implementation; `execute` runs it from synchronous code.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.checkpoint.memory import InMemorySaver

from ...aio import sync_entry
from ...config import Settings
from ...llm.base import Model, RunUsage
from ...llm.identity import model_identity
from ...llm.profiles import ModelProfile, profile_of
from ...results import AnswerResult
from ..checkpoints import sqlite_checkpointer
from .citations import citations_of, evidence_of
from .graph import build_graph, final_notes
from .models import ChainRun, ProgressCallback

CHECKPOINT_FILE = "chain_of_agents.sqlite"


@contextmanager
def open_checkpointer(settings: Settings | None) -> Iterator[BaseCheckpointSaver]:
    """SQLite checkpoints in the cache directory; in memory when the cache is off."""
    if settings is None or not settings.cache:
        yield InMemorySaver()
        return
    with sqlite_checkpointer(Path(settings.cache_dir) / CHECKPOINT_FILE) as saver:
        yield saver


def notes_trail(app: Any, config: dict[str, Any]) -> list[str]:
    """The notes after every worker, in reading order, read back from the checkpoints."""
    found: dict[int, str] = {}
    for snapshot in app.get_state_history(config):
        for entry in snapshot.values.get("latest", {}).values():
            found.setdefault(entry["position"], entry["notes"].get("text", ""))
    return [found[p] for p in sorted(found)]


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


async def aexecute(
    run: ChainRun,
    model: Model,
    *,
    settings: Settings | None = None,
    progress: ProgressCallback | None = None,
) -> AnswerResult:
    """Run (or resume) the graph for a prepared run and return its result.

    A run whose checkpoint is complete returns its stored result with no model call; one
    that stopped part-way continues from its last saved round. The graph runs in a worker
    thread, its concurrent workers in threads of their own (see `run_graph`); cancelled
    (Ctrl-C included), it starts no further model call and ends once the calls in flight
    have, their notes checkpointed.
    """
    stop = threading.Event()
    try:
        return await asyncio.to_thread(run_graph, run, model, settings, progress, stop)
    except asyncio.CancelledError:
        stop.set()
        raise


@sync_entry(aexecute)
def execute() -> AnswerResult:
    """`aexecute` from synchronous code (a running event loop is fine: see `longdoc.aio`)."""


def run_graph(
    run: ChainRun,
    model: Model,
    settings: Settings | None,
    progress: ProgressCallback | None,
    stop: threading.Event | None = None,
) -> AnswerResult:
    """`aexecute`'s work, in the calling thread. The graph's nodes are synchronous on purpose:
    when one worker of a round fails, langgraph's thread runner lets the round's other
    workers finish and checkpoints their notes, so a rerun repeats none of their calls;
    its async runner cancels them mid-call instead, and the rerun would pay for them again."""
    started = time.perf_counter()
    clock: dict[str, float] = {}
    seen: dict[int, str] = {}
    graph = build_graph(run, model, progress=progress, clock=clock, trail=seen, stop=stop)
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
