"""Long-write dataset generation (LongWriter-6k format): many prompts through AgentWrite.

Prompts run concurrently (a fixed pool of `concurrency` workers over a queue, never a gather
over thousands), through one model that may rotate over several endpoints. Every finished
row goes to the one writer task, which appends it as a whole line and fsyncs it. A row's id
is a hash of its prompt and the generation settings: a rerun skips ids already in OUT or in
the rejects file and finishes the rest; a prompt interrupted mid-write resumes from its
AgentWrite checkpoint, which is deleted only once the prompt's row is on disk. Rows failing
the quality filters (empty, too repetitive, length score under the threshold) go to the
rejects file with their reason. Model failures are reported and left for the rerun, never
written as text.

The `id` stays a top-level field of every row, beside `messages`: it is the only way a rerun
can tell which (prompt, settings) pairs OUT already holds whether or not `--with-meta` was
given (the user message alone cannot: the same prompt may be asked at several lengths). The
conversational format itself is the `messages` column; a tool that refuses extra columns can
drop `id` after generation.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from ..agents.length import count_words
from ..agents.planner import SECTION_WORDS
from ..agents.repetition import repeated_ngram_share
from ..errors import InputFormatError, ModelError, PipelineError
from ..llm.base import Model
from .agent_write import AgentWrite, WriteResult, write_key
from .checkpoints import BatchedSqliteSaver, batched_sqlite_checkpointer
from .dataset_input import PromptItem
from .dataset_output import JsonlAppender, OpenReport

MAX_REPETITION = 0.25
"""Share of repeated word 4-grams above which a row is rejected as repetitive; fluent
English prose of a few thousand words stays well under 0.1."""

REPETITION_NGRAM = 4


class DatasetOptions(BaseModel):
    """How rows are generated and filtered."""

    model_config = ConfigDict(frozen=True)

    concurrency: int = Field(default=4, ge=1)
    with_meta: bool = False
    min_length_score: float = Field(default=0.0, ge=0, le=100)
    max_repetition: float = Field(default=MAX_REPETITION, gt=0, le=1)
    section_words: int = Field(default=SECTION_WORDS, ge=1)
    window: int | None = None


def rejects_path_for(out: Path) -> Path:
    return out.with_name(out.stem + ".rejects.jsonl")


def checkpoint_path_for(out: Path) -> Path:
    return out.with_name(out.name + ".checkpoints.sqlite")


@dataclass
class DatasetProgress:
    """Counters reported after every prompt; rates over this run's finished prompts."""

    total: int
    done: int = 0
    written: int = 0
    rejected: int = 0
    failed: int = 0
    skipped: int = 0
    tokens: int = 0
    calls: int = 0
    started: float = field(default_factory=time.monotonic)

    @property
    def finished(self) -> int:
        return self.written + self.rejected + self.failed

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started

    @property
    def rows_per_minute(self) -> float:
        return 60.0 * self.finished / self.elapsed if self.elapsed > 0 else 0.0

    @property
    def eta_seconds(self) -> float | None:
        remaining = self.total - self.skipped - self.finished
        if self.finished == 0:
            return None
        return remaining * self.elapsed / self.finished


class DatasetReport(BaseModel):
    """The outcome of one run."""

    total: int
    written: int
    rejected: int
    failed: list[str]
    skipped_done: int
    duplicates: int
    bad_lines: list[str]
    torn_bytes_repaired: int
    calls: int
    prompt_tokens: int
    completion_tokens: int
    seconds: float
    out: str
    rejects: str


def quality_problem(result: WriteResult, options: DatasetOptions) -> str | None:
    """Why a written piece is unfit for the dataset, or None when it passes."""
    if count_words(result.text) == 0:
        return "empty output"
    share = repeated_ngram_share(result.text, REPETITION_NGRAM)
    if share > options.max_repetition:
        return f"repetitive: {share:.0%} of word {REPETITION_NGRAM}-grams repeat (limit {options.max_repetition:.0%})"
    if result.length_score < options.min_length_score:
        return (
            f"length score {result.length_score:.1f} under {options.min_length_score:g} "
            f"({result.words} words for a target of {result.target_words})"
        )
    return None


def _meta(item: PromptItem, key: str, result: WriteResult) -> dict[str, Any]:
    return {
        "id": key,
        "line": item.line,
        "words": result.words,
        "target_words": result.target_words,
        "length_score": round(result.length_score, 2),
        "plan": [{"main_point": s.main_point, "words": s.words} for s in result.plan.sections],
        "plan_source": result.plan.source,
        "model": result.model,
        "calls": result.usage.calls,
        "prompt_tokens": result.usage.prompt_tokens,
        "completion_tokens": result.usage.completion_tokens,
        "seconds": round(result.seconds, 3),
        "resumed_sections": result.resumed_sections,
    }


async def generate_dataset(
    items: list[PromptItem],
    model: Model,
    out: Path,
    *,
    options: DatasetOptions | None = None,
    rejects: Path | None = None,
    checkpoint: Path | None = None,
    bad_lines: list[InputFormatError] | None = None,
    on_progress: Callable[[DatasetProgress], None] | None = None,
    on_failure: Callable[[PromptItem, Exception], None] | None = None,
) -> DatasetReport:
    """Write one row per distinct prompt of `items` to `out` (see the module docstring)."""
    options = options or DatasetOptions()
    rejects = rejects or rejects_path_for(out)
    checkpoint = checkpoint or checkpoint_path_for(out)
    started = time.monotonic()
    out_file, rejects_file = JsonlAppender(out), JsonlAppender(rejects)
    out_report: OpenReport = out_file.open()
    rejects_file.open()
    done_ids = out_file.ids | rejects_file.ids

    def key_of(item: PromptItem) -> str:
        return write_key(
            item.prompt, item.words, model.name, section_words=options.section_words, window=options.window
        )

    todo: list[tuple[PromptItem, str]] = []
    queued: set[str] = set()
    duplicates = skipped = 0
    for item in items:
        key = key_of(item)
        if key in queued:
            duplicates += 1
        elif key in done_ids:
            skipped += 1
            queued.add(key)
        else:
            queued.add(key)
            todo.append((item, key))
    progress = DatasetProgress(total=len(items) - duplicates, skipped=skipped)
    failures: list[str] = []
    tokens = {"calls": 0, "prompt": 0, "completion": 0}
    queue: asyncio.Queue[tuple[PromptItem, str]] = asyncio.Queue()
    for entry in todo:
        queue.put_nowait(entry)
    rows: asyncio.Queue[tuple[JsonlAppender, dict[str, Any]] | None] = asyncio.Queue()

    async def writer(saver: BatchedSqliteSaver) -> None:
        while True:
            entry = await rows.get()
            if entry is None:
                return
            target, row = entry
            await asyncio.to_thread(target.append, row)
            saver.delete_now(row["id"])  # the row is on disk: its checkpoint may go

    async def worker(pipeline: AgentWrite) -> None:
        while True:
            try:
                item, key = queue.get_nowait()
            except asyncio.QueueEmpty:
                return
            try:
                result = await pipeline.arun(item.prompt, item.words, key=key)
            except PipelineError as exc:
                await rows.put(
                    (rejects_file, {"id": key, "line": item.line, "prompt": item.prompt, "reason": f"no usable text: {exc}"})
                )
                progress.rejected += 1
            except ModelError as exc:
                failures.append(f"line {item.line}: {exc}")
                progress.failed += 1
                if on_failure:
                    on_failure(item, exc)
            else:
                tokens["calls"] += result.usage.calls
                tokens["prompt"] += result.usage.prompt_tokens
                tokens["completion"] += result.usage.completion_tokens
                progress.calls = tokens["calls"]
                progress.tokens = tokens["prompt"] + tokens["completion"]
                problem = quality_problem(result, options)
                meta = _meta(item, key, result)
                if problem is not None:
                    row = {"id": key, "line": item.line, "prompt": item.prompt, "reason": problem}
                    row |= {"meta": meta, "text": result.text}
                    await rows.put((rejects_file, row))
                    progress.rejected += 1
                else:
                    row = {
                        "id": key,
                        "messages": [
                            {"role": "user", "content": item.prompt},
                            {"role": "assistant", "content": result.text},
                        ],
                    }
                    if options.with_meta:
                        row["meta"] = meta
                    await rows.put((out_file, row))
                    progress.written += 1
            if on_progress:
                on_progress(progress)

    try:
        # Checkpoints are committed in batches by a background thread, and a finished prompt's
        # are deleted only once its row is on disk (a kill in between costs no rework).
        with batched_sqlite_checkpointer(checkpoint, defer_deletes=True) as saver:
            for finished in saver.thread_ids() & done_ids:  # left by a run killed after its row
                saver.delete_now(finished)
            writer_task = asyncio.create_task(writer(saver))
            try:
                pipeline = AgentWrite(model, saver, window=options.window, section_words=options.section_words)
                workers = [
                    asyncio.create_task(worker(pipeline)) for _ in range(min(options.concurrency, max(1, len(todo))))
                ]
                try:
                    await asyncio.gather(*workers)
                finally:
                    for task in workers:
                        task.cancel()
            finally:
                await rows.put(None)
                await writer_task
    finally:
        out_file.close()
        rejects_file.close()
    return DatasetReport(
        total=len(items) - duplicates,
        written=progress.written,
        rejected=progress.rejected,
        failed=failures,
        skipped_done=skipped,
        duplicates=duplicates,
        bad_lines=[str(e) for e in (bad_lines or [])],
        torn_bytes_repaired=out_report.torn_bytes,
        calls=tokens["calls"],
        prompt_tokens=tokens["prompt"],
        completion_tokens=tokens["completion"],
        seconds=time.monotonic() - started,
        out=str(out),
        rejects=str(rejects),
    )
