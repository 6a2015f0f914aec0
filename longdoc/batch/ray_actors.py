"""Batch reading on a Ray cluster: actors read the documents, the driver writes the rows.

`longdoc batch ... --ray [ADDRESS]`. The driver (this process) loads each document (so a
path that cannot be read is an error row here, and the actors need no access to the
driver's files: the loaded text travels with the task), hands it to an actor, and appends
the row the actor returns, being the only writer of OUT as in a local batch. Actors, one per
CPU of the cluster at most and no more than `parallel`, each rebuild the model from the
run's settings and read their share of the `parallel` documents at once, in threads.

A document whose actor dies is read again on a replacement, at most MAX_ATTEMPTS times; its
Chain-of-Agents checkpoints are in the cache folder of the settings, on the actor's node, so
the read resumes where the nodes share that folder (a local runtime does) and starts over
where they do not (documents are read whole in minutes; unlike the dataset's long writes, their
checkpoints are not relayed to the driver). A driver killed with -9 takes its actors with it,
and the rerun skips the rows on disk.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

import ray
from ray.exceptions import ActorUnavailableError, RayActorError, RayTaskError

from ..config import Settings
from ..documents import Document
from ..errors import LongdocError
from ..pipelines.dataset.workers import shares
from ..pipelines.ray_runtime import cluster_cpus, ray_session
from .documents import BatchDocument, BatchOutcome, BatchTask, error_row, outcome_of, read_document

MAX_ATTEMPTS = 3
"""Actors a document may lose before it is reported as failed (and left for the rerun)."""


@ray.remote
class BatchReader:
    """A Ray actor: reads documents with its own model clients, in threads."""

    def __init__(self, settings: Settings) -> None:
        from ..llm.factory import load_endpoints

        self.settings = settings
        self.model = load_endpoints(settings)

    def read(self, task: BatchTask, document: BatchDocument, loaded: list[Document]) -> BatchOutcome:
        return outcome_of(document, lambda: read_document(task, loaded, self.settings, self.model))

    def node(self) -> str:
        return f"{ray.get_runtime_context().get_node_id()}:{os.getpid()}"

    def cpu_seconds(self) -> float:
        return time.process_time()


async def read_on_ray(
    documents: list[BatchDocument],
    task: BatchTask,
    settings: Settings,
    actors: int,
    apply: Callable[[BatchOutcome], Awaitable[None]],
) -> float:
    """Read every document on `actors` actors; `apply` each outcome here. Returns the CPU
    seconds the actors reported."""
    from ..api import load_documents

    split = shares(task.parallel, actors)

    def start(share: int) -> Any:
        return BatchReader.options(num_cpus=1, max_concurrency=share + 1, scheduling_strategy="SPREAD").remote(settings)

    pool = [start(share) for share in split]
    spares = [2 * actors]
    queue: deque[BatchDocument] = deque(documents)
    attempts: dict[str, int] = {}

    async def slot(index: int) -> None:
        while queue:
            document = queue.popleft()
            actor = pool[index]
            try:
                loaded = await asyncio.to_thread(load_documents, document.path)
            except LongdocError as exc:
                await apply(BatchOutcome(document.key, error_row(document, str(exc))))
                continue
            try:
                outcome = await actor.read.remote(task, document, loaded)
            except (RayActorError, ActorUnavailableError) as exc:
                attempts[document.key] = attempts.get(document.key, 0) + 1
                if pool[index] is actor and spares[0] > 0:
                    spares[0] -= 1
                    pool[index] = start(split[index])
                if attempts[document.key] >= MAX_ATTEMPTS or pool[index] is actor:
                    reason = f"{document.path}: its Ray actors died {attempts[document.key]} times ({type(exc).__name__})"
                    await apply(BatchOutcome(document.key, failure=reason))
                else:
                    queue.appendleft(document)
                continue
            except RayTaskError as exc:
                await apply(BatchOutcome(document.key, failure=f"{document.path}: Ray actor failed: {exc}"))
                continue
            await apply(outcome)

    try:
        await asyncio.gather(*(slot(index) for index, share in enumerate(split) for _ in range(share)))
        total = 0.0
        for actor in pool:
            try:
                total += await actor.cpu_seconds.remote()
            except (RayActorError, ActorUnavailableError):
                continue
        return total
    finally:
        for actor in pool:
            ray.kill(actor)


async def read_on_cluster(
    address: str,
    documents: list[BatchDocument],
    task: BatchTask,
    settings: Settings,
    apply: Callable[[BatchOutcome], Awaitable[None]],
) -> tuple[float, int]:
    """`read_on_ray` on the cluster at `address`: one actor per CPU, at most `parallel` and
    one per document; the actors' CPU seconds and their number."""
    with ray_session(address):
        actors = max(1, min(cluster_cpus(ray), task.parallel, len(documents)))
        return await read_on_ray(documents, task, settings, actors, apply), actors
