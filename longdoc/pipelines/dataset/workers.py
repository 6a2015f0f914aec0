"""Dataset generation over several worker processes, for concurrency one process cannot feed.

A Python process runs one thread of Python at a time. Each model call costs this client a
few milliseconds of CPU (AgentWrite's length control and repetition repair, the openai
client, checkpoints, the call log): against fast endpoints, a few dozen calls in flight
already need a whole core, and the calls wait for the client instead of the other way round.
So a run whose concurrency is more than PROCESS_CONCURRENCY against a remote endpoint spreads
its prompts over worker processes, one per PROCESS_CONCURRENCY calls, at most one per core.

- Each worker rebuilds the model from the run's settings (`load_endpoints`, so several
  endpoints rotate in every worker) and runs its share of the concurrency.
- Workers take prompts from one shared queue, so a worker that is ahead takes more.
- Each finished prompt goes back to the parent as a `PromptOutcome`; the parent stays the only
  writer of OUT and the rejects file (whole lines, fsync) and deletes the prompt's checkpoint
  once its row is on disk, exactly as a run in one process does.
- Checkpoints go to the same SQLite file (WAL) from every worker, so a rerun resumes a
  half-written prompt whichever process wrote it.
- Workers are forked from multiprocessing's fork server (started once per parent process,
  with longdoc imported and frozen out of the garbage collector's scans: `forkserver`):
  a new worker is ready in ~15 ms, and no worker inherits the parent's threads or connections.
  As with any multiprocessing, a script that calls `generate_dataset` with settings needs the
  `if __name__ == "__main__":` guard (the CLI has it).
- A worker whose parent dies (kill -9 included) exits at once: nothing goes on calling the model
  with no one left to write the rows.
"""

from __future__ import annotations

import asyncio
import math
import multiprocessing
import os
import queue
import threading
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from multiprocessing.connection import wait
from pathlib import Path

from ...aio import run_sync
from ...config import EMBEDDED_MODELS, FAKE_MODEL, Settings
from ...errors import ConfigError, ModelError
from ...llm.base import Model
from ...llm.factory import load_endpoints
from ...machine import available_cores
from ..agent_write import AgentWrite
from ..checkpoints import batched_sqlite_checkpointer
from .input import PromptItem
from .options import DatasetOptions
from .prompt import PromptOutcome, portable, write_prompt

PROCESS_CONCURRENCY = 16
"""Calls in flight one process keeps busy without making them wait: at ~3 ms of client CPU per
call, 16 calls of 100 ms use half a core. A higher concurrency gets one process per 16."""

RESULT_POLL_S = 0.25
"""How often the parent, waiting for outcomes, checks that some worker is still alive."""


@dataclass(frozen=True)
class WorkerDone:
    """A worker's last message: the CPU time it used (the run reports its total)."""

    cpu_seconds: float


def workers_supported() -> bool:
    """Whether this platform can fork workers from a fork server (not Windows)."""
    return "forkserver" in multiprocessing.get_all_start_methods()


def process_count(options: DatasetOptions, prompts: int, settings: Settings | None) -> int:
    """How many processes write `prompts` prompts: `options.processes` when set, else one per
    PROCESS_CONCURRENCY calls of concurrency for a remote endpoint, at most one per core and
    per prompt. The embedded model (which computes in this process) and the fake one stay in
    one process, and so does a run given no settings to rebuild its model from, or on a
    platform without a fork server."""
    if options.processes is not None:
        if options.processes > 1 and settings is None:
            raise ConfigError("writing in several processes needs the settings the model was loaded from")
        if options.processes > 1 and not workers_supported():
            raise ConfigError(
                f"--processes {options.processes}: worker processes need a fork server, which this platform lacks"
            )
        return max(1, min(options.processes, prompts))
    if settings is None or settings.model in (*EMBEDDED_MODELS, FAKE_MODEL) or not workers_supported():
        return 1
    wanted = math.ceil(options.concurrency / PROCESS_CONCURRENCY)
    return max(1, min(wanted, available_cores(), prompts))


def shares(concurrency: int, processes: int) -> list[int]:
    """`concurrency` split over `processes` as evenly as whole numbers allow (each at least 1)."""
    base, extra = divmod(max(concurrency, processes), processes)
    return [base + (1 if i < extra else 0) for i in range(processes)]


async def write_in_processes(
    todo: list[tuple[PromptItem, str]],
    settings: Settings,
    options: DatasetOptions,
    processes: int,
    checkpoint: Path,
    apply: Callable[[PromptOutcome], Awaitable[None]],
) -> float:
    """Write every prompt of `todo` in `processes` worker processes; `apply` each outcome here.

    A prompt whose worker died before reporting it is applied as a failure (left for the
    rerun). Returns the CPU seconds the workers reported using.
    """
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["longdoc.pipelines.dataset.forkserver"])  # when the server starts
    tasks = context.Queue()
    results = context.Queue()
    tasks.cancel_join_thread()  # unread prompts of a failed run must not hold up our exit
    split = shares(options.concurrency, processes)
    for entry in todo:
        tasks.put(entry)
    for _ in range(sum(split)):
        tasks.put(None)  # one stop per task loop in the workers
    workers = [
        context.Process(
            target=worker_main,
            args=(WorkerJob(settings, options, share, checkpoint), tasks, results),
            name=f"longdoc-dataset-{number}",
            daemon=True,
        )
        for number, share in enumerate(split)
    ]
    for worker in workers:
        worker.start()
    loop = asyncio.get_running_loop()
    reader = ThreadPoolExecutor(max_workers=1, thread_name_prefix="longdoc-outcomes")
    remaining = {key for _, key in todo}
    lost: str | None = None
    cpu_seconds = 0.0
    finished = 0
    try:
        while remaining:
            try:
                message = await loop.run_in_executor(reader, results.get, True, RESULT_POLL_S)
            except queue.Empty:
                if any(worker.is_alive() for worker in workers):
                    continue
                try:  # everyone has exited: anything still queued was sent before that
                    message = results.get_nowait()
                except queue.Empty:
                    codes = ", ".join(str(worker.exitcode) for worker in workers)
                    lost = lost or f"worker processes exited (codes {codes}) before writing it"
                    break
            if isinstance(message, str):  # a worker's fatal error: its prompts will be lost
                lost = message
                continue
            if isinstance(message, WorkerDone):
                cpu_seconds += message.cpu_seconds
                finished += 1
                continue
            remaining.discard(message.key)
            await apply(message)
        for item, key in todo:
            if key in remaining:
                await apply(PromptOutcome(item.line, key, failure=ModelError(lost or "not written")))
    finally:
        for worker in workers:
            if worker.is_alive() and remaining:
                worker.terminate()
            worker.join()
        reader.shutdown(wait=False, cancel_futures=True)
    ended = sum(1 for worker in workers if worker.exitcode == 0)
    while finished < ended:  # the workers' last words, sent after their last outcome
        try:
            message = results.get(timeout=RESULT_POLL_S)
        except queue.Empty:
            break
        if isinstance(message, WorkerDone):
            cpu_seconds += message.cpu_seconds
            finished += 1
    return cpu_seconds


def _exit_with_parent() -> None:
    """End this worker the moment its parent process ends, however it ended."""
    parent = multiprocessing.parent_process()
    if parent is None:
        return

    def watch() -> None:
        wait([parent.sentinel])
        os._exit(1)

    threading.Thread(target=watch, name="longdoc-parent-watch", daemon=True).start()


@dataclass(frozen=True)
class WorkerJob:
    """What a worker process is given: the settings to rebuild the model from, how to write,
    its share of the concurrency and the checkpoint file."""

    settings: Settings
    options: DatasetOptions
    concurrency: int
    checkpoint: Path


def worker_main(job: WorkerJob, tasks: multiprocessing.Queue, results: multiprocessing.Queue) -> None:
    """A worker process: write prompts from `tasks` until a stop, put outcomes on `results`."""
    _exit_with_parent()
    try:
        run_sync(_serve(load_endpoints(job.settings), job, tasks, results))
        results.put(WorkerDone(time.process_time()))
    except BaseException as exc:
        results.put(f"worker process {os.getpid()} failed: {type(exc).__name__}: {exc}")
        raise SystemExit(1) from exc


async def _serve(model: Model, job: WorkerJob, tasks: multiprocessing.Queue, results: multiprocessing.Queue) -> None:
    loop = asyncio.get_running_loop()
    taker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="longdoc-tasks")
    options = job.options
    with batched_sqlite_checkpointer(job.checkpoint, defer_deletes=True) as saver:
        pipeline = AgentWrite(model, saver, window=options.window, section_words=options.section_words)

        async def run_tasks() -> None:
            while True:
                task = await loop.run_in_executor(taker, tasks.get)
                if task is None:
                    return
                item, key = task
                outcome = await write_prompt(pipeline, item, key, options)
                # The parent deletes the prompt's checkpoint once its row is on disk: this
                # process's last writes to it must be committed first.
                await saver.acommitted(key)
                results.put(portable(outcome))

        await asyncio.gather(*(run_tasks() for _ in range(job.concurrency)))
    taker.shutdown()
