"""Batch reading: one `ask` or `summarize` per document of a corpus, one JSONL row each.

The corpus job (summarize 10,000 papers, ask one question of every contract): every path
given is a document, and every file under a folder given is one (hidden files and folders
skipped). Each document is read on its own with `longdoc.api` (Chain-of-Agents, as
`longdoc ask` and `longdoc summarize` read one), several at once: `parallel` documents in
threads of this process, or on Ray actors with `ray` (`batch_ray`).

OUT is crash-safe as the dataset's is (`dataset.output.JsonlAppender`: whole lines written
by this one process, fsynced, a torn last line cut on the next run). A row's `id` is a hash
of the document's absolute path and the task, so a rerun skips the documents OUT already
holds and reads the rest; a document interrupted mid-read resumes from its Chain-of-Agents
checkpoint in the cache folder. Rows:

    {"id", "path", "answer", "strategy", "chunks", "citations", "usage", "timings", ...}

the fields of `longdoc ask --json` (`AnswerResult.model_dump`, so new fields flow through),
beside the path. A document that cannot be read (missing, unreadable, no text) is a row
with its `error` instead, written once like any other: delete that row to read it again.
A model failure is reported and left for the rerun, never written.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import json
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ..config import Settings
from ..errors import LongdocError, ModelError, SourceError
from ..results import AnswerResult
from .dataset.output import JsonlAppender

BATCH_VERSION = 1
"""Part of every row id: bump it when a change makes earlier rows stale."""

DEFAULT_PARALLEL = 4
"""Documents read at once by default; each read has its own `--concurrency` calls in flight."""


class BatchTask(BaseModel):
    """What every document of the batch is asked: a question, or a summary."""

    model_config = ConfigDict(frozen=True)

    mode: Literal["ask", "summarize"]
    question: str | None = None
    words: int | None = None
    focus: str | None = None
    strategy: str = "chain"
    budget: int | None = None
    parallel: int = Field(default=DEFAULT_PARALLEL, ge=1)
    ray: str | None = None
    """Read on a Ray cluster ("local", "auto", "ray://host:port"); None never imports Ray."""

    def key(self, path: Path, model_name: str) -> str:
        """The row id of `path`: its absolute path, the task and the model, hashed."""
        fields = self.model_dump(exclude={"parallel", "ray"})
        payload = json.dumps(
            {"v": BATCH_VERSION, "path": str(path.resolve()), "model": model_name, **fields}, sort_keys=True
        )
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:32]


@dataclass(frozen=True)
class BatchDocument:
    """One document of the batch: its path as listed, and its row id."""

    path: Path
    key: str


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


def list_documents(paths: Iterable[Path]) -> list[Path]:
    """Every document the paths name, in order: a file (or a path that does not exist, which
    becomes an error row), or each file under a folder, sorted, hidden ones skipped."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(
                sorted(
                    p
                    for p in path.rglob("*")
                    if p.is_file() and not any(part.startswith(".") for part in p.relative_to(path).parts)
                )
            )
        else:
            found.append(path)
    return found


def answer_row(document: BatchDocument, result: AnswerResult) -> dict[str, Any]:
    """The row of a read document: id, path, then the fields of `ask --json`."""
    data = result.model_dump(mode="json", exclude={"notes"})
    if data.get("segments") is None:
        data.pop("segments", None)
    return {"id": document.key, "path": str(document.path), **data}


def error_row(document: BatchDocument, reason: str) -> dict[str, Any]:
    return {"id": document.key, "path": str(document.path), "error": reason}


def read_document(task: BatchTask, source: Any, settings: Settings, model: Any | None = None) -> AnswerResult:
    """Read one document (a path, or the `Document`s loaded from it) as `longdoc ask` or
    `longdoc summarize` would."""
    from .. import api

    if task.mode == "ask":
        return api.ask(source, task.question or "", strategy=task.strategy, settings=settings, model=model)
    return api.summarize(
        source, words=task.words, focus=task.focus, strategy=task.strategy, settings=settings, model=model,
        budget=task.budget,
    )


@dataclass(frozen=True)
class BatchOutcome:
    """What became of one document: its row (an answer or an error), or a model failure."""

    key: str
    row: dict[str, Any] | None = None
    failure: str | None = None


def outcome_of(document: BatchDocument, read: Callable[[], AnswerResult]) -> BatchOutcome:
    """Run `read` and sort what happens: an answer row, an error row for a document that
    cannot be read, a failure (left for the rerun) for a model error."""
    try:
        return BatchOutcome(document.key, answer_row(document, read()))
    except SourceError as exc:
        return BatchOutcome(document.key, error_row(document, str(exc)))
    except ModelError as exc:
        return BatchOutcome(document.key, failure=f"{document.path}: {exc}")
    except LongdocError as exc:  # anything else longdoc refuses for this document
        return BatchOutcome(document.key, error_row(document, str(exc)))


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
            from .ray_runtime import import_ray

            import_ray()
            from .batch_ray import read_on_cluster

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
