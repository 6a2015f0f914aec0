"""Long-write dataset generation (LongWriter-6k format): many prompts through AgentWrite.

Prompts run concurrently (a fixed pool of `concurrency` workers over a queue, never a gather
over thousands), longest first, through one model that may rotate over several endpoints.
Against a remote endpoint at a concurrency one process cannot keep busy, the prompts are
spread over worker processes (`workers`), or with `options.ray` over Ray actors on a cluster
(`ray_actors`); either way every finished row goes to the one writer task in this process,
which appends it as a whole line and fsyncs it. A row's id is a hash of its prompt and the
generation settings: a rerun skips ids already in OUT or in the rejects file and finishes
the rest; a prompt interrupted mid-write resumes from its
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

from pydantic import BaseModel

from ...aio import sync_entry
from ...config import Settings
from ...errors import ConfigError, InputFormatError
from ...llm.base import Model
from ...llm.profiles import profile_of
from ..agent_write import AgentWrite, write_key
from ..checkpoints import BatchedSqliteSaver, batched_sqlite_checkpointer
from .in_process import write_in_process
from .input import PromptItem
from .options import DatasetOptions
from .output import JsonlAppender, OpenReport
from .prompt import PromptOutcome
from .workers import process_count, write_in_processes


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
    cpu_seconds: float = 0.0
    """CPU time longdoc used for the run, in this process and its worker processes (for
    sizing the client machine of a large run)."""
    processes: int = 1
    out: str
    rejects: str


async def agenerate_dataset(
    items: list[PromptItem],
    model: Model,
    out: Path,
    *,
    options: DatasetOptions | None = None,
    settings: Settings | None = None,
    rejects: Path | None = None,
    checkpoint: Path | None = None,
    bad_lines: list[InputFormatError] | None = None,
    on_progress: Callable[[DatasetProgress], None] | None = None,
    on_failure: Callable[[PromptItem, Exception], None] | None = None,
) -> DatasetReport:
    """Write one row per distinct prompt of `items` to `out` (see the module docstring).

    `settings` (those `model` was loaded from, as `load_endpoints` takes them) let the run
    spread its prompts over worker processes, each rebuilding the model from them; without
    them every prompt is written in this process.
    """
    options = options or DatasetOptions()
    rejects = rejects or rejects_path_for(out)
    checkpoint = checkpoint or checkpoint_path_for(out)
    started = time.monotonic()
    cpu_started = time.process_time()
    if options.ray is not None and settings is None:
        raise ConfigError("writing on a Ray cluster needs the settings the model was loaded from")
    processes = 1 if options.ray is not None else process_count(options, len(items), settings)
    out_file, rejects_file = JsonlAppender(out), JsonlAppender(rejects)
    out_report: OpenReport = out_file.open()
    rejects_file.open()
    done_ids = out_file.ids | rejects_file.ids

    # Rows are keyed by the model's name, not its endpoints (a fleet may change between
    # runs), and by its profile where it is not `base` (ids made before profiles existed
    # were all on base, and stay valid).
    profile = profile_of(model).name
    extra = {} if profile == "base" else {"profile": profile}

    def key_of(item: PromptItem) -> str:
        return write_key(
            item.prompt, item.words, model.name, section_words=options.section_words, window=options.window,
            **extra,
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
    # Longest first: the longest writes set a run's end, so they start while every slot is busy
    # instead of last (in input order otherwise; rows are appended as they finish anyway).
    todo.sort(key=lambda entry: -entry[0].words)
    progress = DatasetProgress(total=len(items) - duplicates, skipped=skipped)
    failures: list[str] = []
    tokens = {"calls": 0, "prompt": 0, "completion": 0}
    by_key = {key: item for item, key in todo}
    rows: asyncio.Queue[tuple[JsonlAppender, dict[str, Any]] | None] = asyncio.Queue()

    async def writer(saver: BatchedSqliteSaver) -> None:
        while True:
            entry = await rows.get()
            if entry is None:
                return
            target, row = entry
            await asyncio.to_thread(target.append, row)
            saver.delete_now(row["id"])  # the row is on disk: its checkpoint may go

    async def apply(outcome: PromptOutcome) -> None:
        item = by_key[outcome.key]
        tokens["calls"] += outcome.calls
        tokens["prompt"] += outcome.prompt_tokens
        tokens["completion"] += outcome.completion_tokens
        progress.calls = tokens["calls"]
        progress.tokens = tokens["prompt"] + tokens["completion"]
        if outcome.failure is not None:
            failures.append(f"line {item.line}: {outcome.failure}")
            progress.failed += 1
            if on_failure:
                on_failure(item, outcome.failure)
        elif outcome.row is not None:
            await rows.put((out_file if outcome.target == "out" else rejects_file, outcome.row))
            if outcome.target == "out":
                progress.written += 1
            else:
                progress.rejected += 1
        if on_progress:
            on_progress(progress)

    workers_cpu = 0.0
    processes = min(processes, max(1, len(todo)))
    try:
        # Checkpoints are committed in batches by a background thread, and a finished prompt's
        # are deleted only once its row is on disk (a kill in between costs no rework).
        with batched_sqlite_checkpointer(checkpoint, defer_deletes=True) as saver:
            for finished in saver.thread_ids() & done_ids:  # left by a run killed after its row
                saver.delete_now(finished)
            saver.flush()  # committed before any worker process opens the file
            writer_task = asyncio.create_task(writer(saver))
            try:
                if options.ray is not None or processes > 1:
                    worker_settings = settings.model_copy(
                        update={"model": model.name, "window": options.window or model.context_window}
                    )
                if options.ray is not None and todo:
                    from ..ray_runtime import import_ray

                    import_ray()  # a missing extra is a ConfigError, not an ImportError
                    from .ray_actors import write_on_cluster

                    workers_cpu, processes = await write_on_cluster(
                        options.ray, todo, worker_settings, options, saver, apply
                    )
                elif processes > 1:
                    workers_cpu = await write_in_processes(
                        todo, worker_settings, options, processes, checkpoint, apply
                    )
                else:
                    pipeline = AgentWrite(model, saver, window=options.window, section_words=options.section_words)
                    await write_in_process(todo, pipeline, options, apply)
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
        cpu_seconds=round(time.process_time() - cpu_started + workers_cpu, 3),
        processes=processes,
        out=str(out),
        rejects=str(rejects),
    )


@sync_entry(agenerate_dataset)
def generate_dataset() -> DatasetReport:
    """`agenerate_dataset` from synchronous code (a script, a notebook cell): see `longdoc.aio`."""
