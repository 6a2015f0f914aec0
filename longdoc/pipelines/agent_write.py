"""AgentWrite as a LangGraph graph: plan, write the sections in turn, assemble.

    START -> plan -> write -> write -> ... -> assemble -> END

The graph runs with a SQLite checkpointer, so the state is saved after the plan and after
every section. A write is identified by a hash of its instruction, target and model
(`write_key`); running the same write again after a crash (or a kill) picks up at the first
unfinished section and never redoes finished ones. A finished write's checkpoints are
deleted. The state holds the plan and the finished sections' text (the output itself, which
is what a resume must not lose), never the prompts.
"""

from __future__ import annotations

import functools
import hashlib
import json
import operator
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any, TypedDict

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph import END, START, StateGraph
from pydantic import BaseModel, ConfigDict, ValidationError

from ..agents.length import count_words, length_score
from ..agents.plan import SECTION_WORDS, Plan, section_count
from ..agents.planner import PlannerAgent
from ..agents.writer import SectionDraft, WriterAgent
from ..aio import sync_entry
from ..config import Settings
from ..errors import ConfigError, PipelineError, PlanError
from ..llm.base import Model, RunUsage
from ..llm.identity import model_identity
from .checkpoints import InlineSqliteSaver, sqlite_checkpointer

CARRY_LIMIT = 0.5
"""A section's budget moves by at most this share of its plan budget to absorb the surplus or
shortfall of the sections before it, so the total lands near the target."""

LAST_CARRY_LIMIT = 1.0
"""The same for the last section, which is the last chance to make the total: it may take on
up to its own plan budget again of the earlier sections' shortfall (a top-up, written like any
section: continued in the model's own words, repeats cut)."""

OnPlan = Callable[[Plan], None]
OnSection = Callable[[SectionDraft, int], None]
OnText = Callable[[int, str], None]
"""Called with each finished section's index and text, in order: on a resumed run, first for
the sections the checkpoint holds, then for each new one (what streams a write to a file)."""


class WrittenSection(BaseModel):
    """A finished section as reported: its plan entry and what was written."""

    model_config = ConfigDict(frozen=True)

    index: int
    main_point: str
    budget: int
    words: int
    calls: int
    continuations: int
    trimmed: bool
    repaired: bool
    seconds: float


class WriteResult(BaseModel):
    """A finished AgentWrite run; `to_json` gives the `longdoc write --json` contract."""

    text: str
    words: int
    target_words: int
    length_score: float
    plan: Plan
    sections: list[WrittenSection]
    usage: RunUsage
    seconds: float
    resumed_sections: int = 0
    """Sections taken from a checkpoint of an earlier, interrupted run."""
    model: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "words": self.words,
            "target_words": self.target_words,
            "length_score": round(self.length_score, 2),
            "plan": [{"main_point": s.main_point, "words": s.words} for s in self.plan.sections],
            "plan_source": self.plan.source,
            "plan_notes": list(self.plan.notes),
            "sections": [
                {
                    "words": s.words,
                    "budget": s.budget,
                    "calls": s.calls,
                    "continuations": s.continuations,
                    "trimmed": s.trimmed,
                    "repaired": s.repaired,
                }
                for s in self.sections
            ],
            "usage": self.usage.model_dump(),
            "seconds": round(self.seconds, 3),
            "resumed_sections": self.resumed_sections,
            "model": self.model,
        }


class WriteState(TypedDict, total=False):
    instruction: str
    target_words: int
    plan: dict[str, Any]
    plan_usage: dict[str, Any]
    sections: Annotated[list[dict[str, Any]], operator.add]


def write_key(instruction: str, target_words: int, model_name: str, **options: object) -> str:
    """The identity of a write: same instruction, target, model and options = same write."""
    payload = json.dumps(
        {"instruction": instruction, "words": target_words, "model": model_name, **options},
        sort_keys=True,
        default=str,
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:32]


def default_checkpoint_path(settings: Settings | None = None) -> Path:
    settings = settings or Settings.from_env()
    return settings.cache_dir / "agent_write.sqlite"


@asynccontextmanager
async def open_checkpointer(path: Path, *, durable: bool = True) -> AsyncIterator[InlineSqliteSaver]:
    """The SQLite checkpoint store on `path` (created with its folder), in WAL mode.

    `durable=False` drops the fsync per commit (synchronous=NORMAL): checkpoints still
    survive a killed process, only a power cut may lose the last few, and a busy dataset run
    is not held up by hundreds of fsyncs.
    """
    with sqlite_checkpointer(path, durable=durable) as saver:
        yield saver


def _usage_dict(usage: RunUsage) -> dict[str, int]:
    return {
        "calls": usage.calls,
        "cached_calls": usage.cached_calls,
        "prompt_tokens": usage.prompt_tokens,
        "completion_tokens": usage.completion_tokens,
    }


def carried_budget(plan: Plan, index: int, written_words: list[int]) -> int:
    """Section `index`'s budget plus the shortfall (or minus the surplus) of the sections
    before it, moved by at most CARRY_LIMIT of the plan budget (LAST_CARRY_LIMIT for the
    last section)."""
    planned = plan.sections[index].words
    planned_before = sum(s.words for s in plan.sections[:index])
    shortfall = planned_before - sum(written_words)
    share = LAST_CARRY_LIMIT if index == len(plan.sections) - 1 else CARRY_LIMIT
    limit = int(share * planned)
    return max(1, planned + max(-limit, min(limit, shortfall)))


def stored_plan(value: object) -> Plan:
    """The plan a checkpoint holds; a plan that no longer validates (a checkpoint written by
    another version, or damaged) is a PlanError that says how to start over."""
    try:
        return Plan.model_validate(value)
    except ValidationError as exc:
        raise PlanError(
            f"the checkpoint's writing plan does not validate ({exc.error_count()} problem(s), first: "
            f"{exc.errors()[0]['msg']}); delete the checkpoint database (or pass another "
            "--checkpoint) to plan the piece again",
            stage="plan",
        ) from exc


class AgentWrite:
    """The AgentWrite pipeline over one model and one checkpointer; `arun` writes a piece."""

    def __init__(
        self,
        model: Model,
        checkpointer: BaseCheckpointSaver | None = None,
        *,
        window: int | None = None,
        section_words: int = SECTION_WORDS,
        on_plan: OnPlan | None = None,
        on_section: OnSection | None = None,
        on_text: OnText | None = None,
    ) -> None:
        self.model = model
        self.checkpointer = checkpointer
        self.window = window
        self.section_words = section_words
        self.on_plan = on_plan
        self.on_section = on_section
        self.on_text = on_text

    def key(self, instruction: str, target_words: int) -> str:
        """The checkpoint of one write: the model's endpoint, rendering and profile count
        (`model_identity`), so a write on another server or profile starts afresh."""
        return write_key(
            instruction, target_words, model_identity(self.model), section_words=self.section_words, window=self.window
        )

    @functools.cached_property
    def _app(self):
        """The compiled graph, built once per pipeline; nodes make their agents per call, so
        concurrent writes on one pipeline never share usage counters."""

        async def plan_node(state: WriteState) -> dict[str, Any]:
            planner = PlannerAgent(self.model, section_words=self.section_words)
            plan = await planner.aplan(state["instruction"], state["target_words"])
            if self.on_plan:
                self.on_plan(plan)
            return {"plan": plan.model_dump(mode="json"), "plan_usage": _usage_dict(planner.usage)}

        async def write_node(state: WriteState) -> dict[str, Any]:
            plan = stored_plan(state["plan"])
            done = state.get("sections", [])
            index = len(done)
            budget = carried_budget(plan, index, [s["words"] for s in done])
            writer = WriterAgent(self.model, window=self.window)
            started = time.perf_counter()
            # A section the model leaves empty is skipped, its budget carried to the next one;
            # only a piece with no text at all fails (in _assemble).
            draft = await writer.awrite(plan, index, [s["text"] for s in done], budget=budget, required=False)
            if self.on_section:
                self.on_section(draft, len(plan.sections))
            if self.on_text:
                self.on_text(draft.index, draft.text)
            record = draft.model_dump() | {
                "seconds": time.perf_counter() - started,
                "usage": _usage_dict(writer.usage),
            }
            return {"sections": [record]}

        async def next_step(state: WriteState) -> str:  # async: a sync edge runs in a thread pool
            plan = state["plan"]
            return "write" if len(state.get("sections", [])) < len(plan["sections"]) else END

        graph = StateGraph(WriteState)
        graph.add_node("plan", plan_node)
        graph.add_node("write", write_node)
        graph.add_edge(START, "plan")
        graph.add_edge("plan", "write")
        graph.add_conditional_edges("write", next_step, ["write", END])
        return graph.compile(checkpointer=self.checkpointer)

    async def arun(self, instruction: str, target_words: int, *, key: str | None = None) -> WriteResult:
        """Write `instruction` at `target_words`, resuming a checkpointed run of the same key."""
        if target_words < 1:
            raise ConfigError(f"the target length must be a positive number of words, got {target_words!r}")
        app = self._app
        thread = key or self.key(instruction, target_words)
        steps = section_count(target_words, self.section_words)
        config = {"configurable": {"thread_id": thread}, "recursion_limit": steps + 10}
        started = time.perf_counter()
        resumed = 0
        state_input: WriteState | None = {"instruction": instruction, "target_words": target_words}
        if self.checkpointer is not None:
            snapshot = await app.aget_state(config)
            values = snapshot.values or {}
            if not snapshot.next and "plan" in values and len(values.get("sections", [])) == len(values["plan"]["sections"]):
                # Finished, but the process died before its checkpoint was deleted.
                self._replay_text(values)
                await self.checkpointer.adelete_thread(thread)
                return self._assemble(values, time.perf_counter() - started, len(values["sections"]))
            if snapshot.next:
                resumed = len(snapshot.values.get("sections", []))
                state_input = None
                if self.on_plan and "plan" in snapshot.values:
                    self.on_plan(stored_plan(snapshot.values["plan"]))
                self._replay_text(snapshot.values)
        final = await app.ainvoke(state_input, config)
        if self.checkpointer is not None:
            await self.checkpointer.adelete_thread(thread)
        return self._assemble(final, time.perf_counter() - started, resumed)

    def _replay_text(self, state: WriteState) -> None:
        for record in state.get("sections", []) if self.on_text else ():
            self.on_text(record["index"], record["text"])

    def _assemble(self, state: WriteState, seconds: float, resumed: int) -> WriteResult:
        plan = stored_plan(state["plan"])
        records = state.get("sections", [])
        text = "\n\n".join(r["text"] for r in records if r["text"])
        words = count_words(text)
        if records and len(records) == len(plan.sections) and words == 0:
            raise PipelineError(f"the model wrote no text for any of the {len(records)} sections", stage="write")
        usage = RunUsage()
        for part in [state.get("plan_usage", {})] + [r["usage"] for r in records]:
            for field in ("calls", "cached_calls", "prompt_tokens", "completion_tokens"):
                setattr(usage, field, getattr(usage, field) + int(part.get(field, 0)))
        sections = [
            WrittenSection(
                index=r["index"],
                main_point=plan.sections[r["index"]].main_point,
                budget=r["budget"],
                words=r["words"],
                calls=r["calls"],
                continuations=r["continuations"],
                trimmed=r["trimmed"],
                repaired=r["repaired"],
                seconds=r["seconds"],
            )
            for r in records
        ]
        return WriteResult(
            text=text,
            words=words,
            target_words=plan.target_words,
            length_score=length_score(plan.target_words, words),
            plan=plan,
            sections=sections,
            usage=usage,
            seconds=seconds,
            resumed_sections=resumed,
            model=self.model.name,
        )


async def awrite(
    instruction: str,
    words: int,
    *,
    model: Model | None = None,
    settings: Settings | None = None,
    checkpoint: Path | str | None = None,
    section_words: int = SECTION_WORDS,
    on_plan: OnPlan | None = None,
    on_section: OnSection | None = None,
    on_text: OnText | None = None,
) -> WriteResult:
    """Async `write`: plan and write `instruction` at about `words` words."""
    settings = settings or Settings.from_env()
    if model is None:
        from ..llm import load_model

        model = load_model(settings)
    path = Path(checkpoint) if checkpoint is not None else default_checkpoint_path(settings)
    async with open_checkpointer(path) as saver:
        pipeline = AgentWrite(
            model,
            saver,
            window=settings.window,
            section_words=section_words,
            on_plan=on_plan,
            on_section=on_section,
            on_text=on_text,
        )
        return await pipeline.arun(instruction, words)


@sync_entry(awrite)
def write() -> WriteResult:
    """Write a piece of about `words` words for `instruction` with AgentWrite.

    The model defaults to `load_model(settings)` (the embedded model with no endpoint
    configured); checkpoints go to `checkpoint` (default: the cache folder), so calling
    `write` again after an interruption resumes where it stopped. `on_text` gets each
    section's text as it is finished (see `OnText`). Works inside a running
    event loop too (a notebook); in async code, await `awrite`.
    """
