"""A batch run: the documents listed, those OUT already holds skipped, the rest read (in
threads here, or on Ray actors), every row appended by this process alone, and the report."""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from ..config import Settings
from ..pipelines.dataset.output import JsonlAppender
from .documents import (
    BatchDocument,
    BatchOutcome,
    BatchTask,
    list_documents,
    outcome_of,
    read_document,
)


class BatchReport(BaseModel):
    """The outcome of one batch run."""

    total: int
    answered: int
    errors: int
    failed: list[str]
    skipped_done: int
    torn_bytes_repaired: int
    calls: int
    prompt_tokens: int
    completion_tokens: int
    seconds: float
    cpu_seconds: float
    workers: int = 1
    """Threads of this process, or Ray actors."""
    out: str


@dataclass
class BatchProgress:
    """Counters reported after every document."""

    total: int
    skipped: int = 0
    answered: int = 0
    errors: int = 0
    failed: int = 0
    tokens: int = 0
    started: float = field(default_factory=time.monotonic)

    @property
    def finished(self) -> int:
        return self.answered + self.errors + self.failed


async def run_batch(
    paths: list[Path],
    task: BatchTask,
    settings: Settings,
    out: Path,
    *,
    on_progress: Callable[[BatchProgress], None] | None = None,
    on_failure: Callable[[str], None] | None = None,
) -> BatchReport:
    """Read every document of `paths` (see the module docstring) into `out`."""
    from ..llm.factory import load_endpoints

    started, cpu_started = time.monotonic(), time.process_time()
    model = load_endpoints(settings)
    appender = JsonlAppender(out)
    opened = appender.open()
    documents: list[BatchDocument] = []
    seen: set[str] = set()
    skipped = 0
    for path in list_documents(paths):
        key = task.key(path, model.name)
        if key in seen:
            continue
        seen.add(key)
        if key in appender.ids:
            skipped += 1
        else:
            documents.append(BatchDocument(path, key))
    progress = BatchProgress(total=len(seen), skipped=skipped)
    failures: list[str] = []
    usage = {"calls": 0, "prompt_tokens": 0, "completion_tokens": 0}
    lock = asyncio.Lock()

    async def apply(outcome: BatchOutcome) -> None:
        async with lock:  # one writer: rows are appended in the order they finish
            if outcome.failure is not None:
                failures.append(outcome.failure)
                progress.failed += 1
                if on_failure:
                    on_failure(outcome.failure)
            elif outcome.row is not None:
                await asyncio.to_thread(appender.append, outcome.row)
                if "error" in outcome.row:
                    progress.errors += 1
                else:
                    progress.answered += 1
                    for name in usage:
                        usage[name] += int(outcome.row.get("usage", {}).get(name, 0))
                    progress.tokens = usage["prompt_tokens"] + usage["completion_tokens"]
            if on_progress:
                on_progress(progress)

    workers_cpu = 0.0
    workers = min(task.parallel, max(1, len(documents)))
    try:
        if task.ray is not None and documents:
            from ..pipelines.ray_runtime import import_ray

            import_ray()
            from .ray_actors import read_on_cluster

            workers_cpu, workers = await read_on_cluster(task.ray, documents, task, settings, apply)
        else:
            await _read_here(documents, task, settings, model, workers, apply)
    finally:
        appender.close()
    return BatchReport(
        total=len(seen),
        answered=progress.answered,
        errors=progress.errors,
        failed=failures,
        skipped_done=skipped,
        torn_bytes_repaired=opened.torn_bytes,
        calls=usage["calls"],
        prompt_tokens=usage["prompt_tokens"],
        completion_tokens=usage["completion_tokens"],
        seconds=round(time.monotonic() - started, 3),
        cpu_seconds=round(time.process_time() - cpu_started + workers_cpu, 3),
        workers=workers,
        out=str(out),
    )


async def _read_here(
    documents: list[BatchDocument],
    task: BatchTask,
    settings: Settings,
    model: Any,
    workers: int,
    apply: Callable[[BatchOutcome], Any],
) -> None:
    """Every document in this process: `workers` threads over a queue (a read is sync)."""
    queue: asyncio.Queue[BatchDocument] = asyncio.Queue()
    for document in documents:
        queue.put_nowait(document)
    loop = asyncio.get_running_loop()
    threads = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="longdoc-batch")

    async def worker() -> None:
        while True:
            try:
                document = queue.get_nowait()
            except asyncio.QueueEmpty:
                return
            read = functools.partial(read_document, task, document.path, settings, model)
            await apply(await loop.run_in_executor(threads, outcome_of, document, read))

    try:
        await asyncio.gather(*(worker() for _ in range(workers)))
    finally:
        threads.shutdown(wait=False, cancel_futures=True)
