"""The first executor of a dataset run: every prompt in this process, over one model."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from ..agent_write import AgentWrite
from .input import PromptItem
from .options import DatasetOptions
from .prompt import PromptOutcome, write_prompt


async def write_in_process(
    todo: list[tuple[PromptItem, str]],
    pipeline: AgentWrite,
    options: DatasetOptions,
    apply: Callable[[PromptOutcome], Awaitable[None]],
) -> None:
    """Every prompt of `todo` in this process: a fixed pool of `concurrency` tasks over a queue."""
    queue: asyncio.Queue[tuple[PromptItem, str]] = asyncio.Queue()
    for entry in todo:
        queue.put_nowait(entry)

    async def worker() -> None:
        while True:
            try:
                item, key = queue.get_nowait()
            except asyncio.QueueEmpty:
                return
            await apply(await write_prompt(pipeline, item, key, options))

    workers = [asyncio.create_task(worker()) for _ in range(min(options.concurrency, max(1, len(todo))))]
    try:
        await asyncio.gather(*workers)
    finally:
        for task in workers:
            task.cancel()
