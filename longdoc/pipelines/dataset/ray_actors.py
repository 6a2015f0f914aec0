"""Dataset generation on a Ray cluster: actors write the prompts, the driver keeps the files.

The third executor of `generate_dataset`, beside one process and worker processes, for a run
that outgrows one client machine (`longdoc dataset --ray [ADDRESS]`):

- Actors, one per PROCESS_CONCURRENCY calls of concurrency (or `--processes`), at most one per
  CPU of the cluster, spread over its nodes. Each rebuilds the model from the run's settings
  (`load_endpoints`: every endpoint, in turn) and runs the async AgentWrite loop for its share
  of the concurrency.
- The driver (this process) hands out the prompts one at a time, longest first, so an actor
  that is ahead takes more. It stays the only writer of OUT and of the rejects file (whole
  lines, fsync) and the owner of the checkpoints: an actor's AgentWrite checkpoints go to an
  in-memory store whose writes reach the driver as each section finishes (`checkpoint_relay`;
  the driver long-polls each prompt's actor, which works through Ray Client too), and the driver commits them to its SQLite file, the same file and
  schema as the other executors. A prompt starts on an actor with the rows the driver holds
  for it, so it resumes from its last finished section.
- An actor that dies (a node lost, `ray.kill`, out of memory) is replaced, and the prompts it
  was writing go back to the queue and continue on another actor from their last relayed
  section: no prompt is lost, and since only the driver writes rows, none is written twice.
  A prompt whose actors die MAX_ATTEMPTS times is reported as failed (left for the rerun).
- A driver killed with -9 takes its job's actors with it (Ray ends a job's actors when its
  driver dies); the rerun skips the rows on disk and resumes the rest from the driver's
  checkpoints, without calling the model again for finished prompts.
- CPU is counted over the cluster: the driver's and every live actor's (an actor that died
  takes its count with it).
"""

from __future__ import annotations

import asyncio
import math
import os
import time
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

import ray
from ray.exceptions import ActorUnavailableError, RayActorError, RayTaskError

from ...config import Settings
from ...errors import ModelError
from ..agent_write import AgentWrite
from ..checkpoints import BatchedSqliteSaver, StoredStatements, ThreadRows
from ..ray_runtime import cluster_cpus, ray_session
from .checkpoint_relay import RelaySqliteSaver
from .input import PromptItem
from .options import DatasetOptions
from .prompt import PromptOutcome, portable, write_prompt
from .workers import PROCESS_CONCURRENCY, shares

MAX_ATTEMPTS = 3
"""Actors a prompt may lose before it is reported as failed (and left for the rerun)."""

ACTOR_CPUS = 1
"""CPUs Ray reserves for each actor: one actor per CPU keeps each Python process on a core."""


def actor_count(options: DatasetOptions, prompts: int, cpus: int) -> int:
    """How many actors write `prompts` prompts on a cluster of `cpus` CPUs: `options.processes`
    when set, else one per PROCESS_CONCURRENCY calls of concurrency; at most one per CPU and
    per prompt."""
    wanted = options.processes or math.ceil(options.concurrency / PROCESS_CONCURRENCY)
    return max(1, min(wanted, max(1, cpus // ACTOR_CPUS), prompts))


@ray.remote
class DatasetWriter:
    """A Ray actor: writes prompts with its own model clients, relays its checkpoints."""

    def __init__(self, settings: Settings, options: DatasetOptions) -> None:
        from ...llm.factory import load_endpoints

        self.options = options
        self.store = RelaySqliteSaver()
        self.writing: dict[str, asyncio.Future[PromptOutcome]] = {}
        self.pipeline = AgentWrite(
            load_endpoints(settings), self.store, window=options.window, section_words=options.section_words
        )

    def node(self) -> str:
        """The node this actor runs on, and its process (for tests and the report)."""
        return f"{ray.get_runtime_context().get_node_id()}:{os.getpid()}"

    def cpu_seconds(self) -> float:
        return time.process_time()

    async def start(self, item: PromptItem, key: str, rows: ThreadRows) -> None:
        """Start writing `item` from the checkpoint `rows` the driver holds for it."""
        self.store.load(key, rows)
        self.writing[key] = asyncio.ensure_future(write_prompt(self.pipeline, item, key, self.options))

    async def collect(self, key: str) -> tuple[StoredStatements, PromptOutcome | None]:
        """Once `key` has new checkpoint writes or is finished: those writes (as SQL
        statements), and its outcome when finished. The driver calls it again until then (a
        long poll rather than a streaming generator, which Ray Client does not carry)."""
        task = self.writing[key]
        changed = self.store.changed(key)
        if not task.done() and not changed.is_set():
            waiter = asyncio.ensure_future(changed.wait())
            await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
            waiter.cancel()
        if not task.done():
            return self.store.take(key), None
        statements = self.store.take(key)  # every write of the finished prompt, then its end
        del self.writing[key]
        self.store.forget(key)
        return statements, portable(task.result())


class _ActorPool:
    """The run's actors; a dead one is replaced (at most `spares` times in all)."""

    def __init__(self, settings: Settings, options: DatasetOptions, split: list[int]) -> None:
        self.settings = settings
        self.options = options
        self.split = split
        self.spares = 2 * len(split)
        self.actors = [self._start(share) for share in split]

    def _start(self, share: int) -> Any:
        return DatasetWriter.options(
            num_cpus=ACTOR_CPUS,
            max_concurrency=share + 2,  # its prompts, plus the driver's short questions
            scheduling_strategy="SPREAD",
        ).remote(self.settings, self.options)

    def replace(self, index: int, dead: Any) -> Any | None:
        """The actor now in slot `index` after `dead` died there: a new one (or one already
        started by another of its prompts); None when no spare is left."""
        if self.actors[index] is dead:
            if self.spares <= 0:
                return None
            self.spares -= 1
            self.actors[index] = self._start(self.split[index])
        return self.actors[index]

    async def cpu_seconds(self) -> float:
        total = 0.0
        for actor in self.actors:
            try:
                total += await actor.cpu_seconds.remote()
            except (RayActorError, ActorUnavailableError):
                continue
        return total

    def stop(self) -> None:
        for actor in self.actors:
            ray.kill(actor)


async def write_on_ray(
    todo: list[tuple[PromptItem, str]],
    settings: Settings,
    options: DatasetOptions,
    actors: int,
    saver: BatchedSqliteSaver,
    apply: Callable[[PromptOutcome], Awaitable[None]],
) -> float:
    """Write every prompt of `todo` on `actors` Ray actors; `apply` each outcome here.

    `saver` is the run's checkpoint store: relayed section checkpoints are replayed into it,
    and a prompt starts from what it holds. Returns the CPU seconds the actors reported.
    """
    split = shares(options.concurrency, actors)
    pool = _ActorPool(settings, options, split)
    queue: deque[tuple[PromptItem, str]] = deque(todo)
    attempts: dict[str, int] = {}

    async def write_one(actor: Any, item: PromptItem, key: str) -> PromptOutcome:
        rows = await asyncio.to_thread(saver.thread_rows, key)
        await actor.start.remote(item, key, rows)
        while True:
            statements, outcome = await actor.collect.remote(key)
            if statements:
                saver.replay(key, statements)
            if outcome is not None:
                return outcome

    async def slot(index: int) -> None:
        actor = pool.actors[index]
        while queue:
            item, key = queue.popleft()
            try:
                outcome = await write_one(actor, item, key)
            except (RayActorError, ActorUnavailableError) as exc:
                attempts[key] = attempts.get(key, 0) + 1
                replacement = pool.replace(index, actor)
                if attempts[key] >= MAX_ATTEMPTS or replacement is None:
                    reason = f"its Ray actors died {attempts[key]} times (last: {type(exc).__name__})"
                    await apply(PromptOutcome(item.line, key, failure=ModelError(reason)))
                else:
                    queue.appendleft((item, key))  # continues from its last relayed section
                if replacement is None:
                    return
                actor = replacement
                continue
            except RayTaskError as exc:  # a bug in the actor, not the model: this prompt fails
                await apply(PromptOutcome(item.line, key, failure=ModelError(f"Ray actor failed: {exc}")))
                continue
            await apply(outcome)

    slots = [index for index, share in enumerate(split) for _ in range(share)]
    try:
        await asyncio.gather(*(slot(index) for index in slots))
        for item, key in queue:  # left when every slot lost its actors for good
            await apply(PromptOutcome(item.line, key, failure=ModelError("no Ray actor left to write it")))
        return await pool.cpu_seconds()
    finally:
        pool.stop()


async def write_on_cluster(
    address: str,
    todo: list[tuple[PromptItem, str]],
    settings: Settings,
    options: DatasetOptions,
    saver: BatchedSqliteSaver,
    apply: Callable[[PromptOutcome], Awaitable[None]],
) -> tuple[float, int]:
    """`write_on_ray` on the cluster at `address` (see `ray_session`), with as many actors as
    `actor_count` gives for it; the actors' CPU seconds and their number."""
    with ray_session(address):
        actors = actor_count(options, len(todo), cluster_cpus(ray))
        return await write_on_ray(todo, settings, options, actors, saver, apply), actors
