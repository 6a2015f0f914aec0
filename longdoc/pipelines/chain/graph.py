"""The Chain-of-Agents graph: split → (workers → advance)* → manager, as a LangGraph
`StateGraph`. The state holds chunk references, the latest notes of each
group and usage records, never chunk text (that stays in the `ChainRun`)."""

from __future__ import annotations

import threading
import time
from typing import Annotated, Any, TypedDict

from langgraph.graph import END, START, StateGraph
from langgraph.types import Send

from ...agents.manager import ManagerAgent
from ...agents.notes import Notes, notes_from_dict
from ...agents.worker import WorkerAgent, bundle_label
from ...documents import Chunk
from ...errors import PipelineError
from ...llm.base import Completion, Model, RunUsage
from .models import ChainRun, ProgressCallback, ProgressEvent


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
    stop: threading.Event | None = None,
):
    """The StateGraph: split → (workers → advance)* → manager. Agents know nothing of it.

    Once `stop` is set, no further model call starts (the calls in flight finish)."""
    b = run.budget
    task = run.task
    worker = WorkerAgent(
        model, mode=task.mode, notes_cap=b.notes_cap, max_tokens=b.worker_output,
        counter=run.counter, window=b.window, focus=task.focus,
        view_cap=b.worker_notes if b.worker_notes < b.notes_cap else None,
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

    def check_stop(stage: str) -> None:
        if stop is not None and stop.is_set():
            raise PipelineError("the run was cancelled", stage=stage)

    def work(payload: dict[str, Any]) -> dict[str, Any]:
        check_stop("worker")
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
        check_stop("manager")
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


def final_notes(values: dict[str, Any]) -> list[Notes]:
    """Each group's last notes, in group order."""
    latest = values.get("latest", {})
    return [notes_from_dict(latest[str(g)]["notes"]) for g in range(len(values.get("groups", []))) if str(g) in latest]
