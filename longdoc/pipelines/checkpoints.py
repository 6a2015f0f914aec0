"""The checkpoint store of AgentWrite: LangGraph's SQLite saver, called inline from async code.

LangGraph's `AsyncSqliteSaver` sends every statement through aiosqlite's worker thread; a
dataset run with dozens of writes in flight spends more CPU on those thread hand-offs than on
the pipeline itself. SQLite statements on a local file take well under a millisecond, so
this saver runs the synchronous `SqliteSaver` methods directly in the event loop instead.
Same schema, same durability (WAL; see `open_checkpointer` for the fsync setting).
"""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from langgraph.checkpoint.base import (
    ChannelVersions,
    Checkpoint,
    CheckpointMetadata,
    CheckpointTuple,
)
from langgraph.checkpoint.sqlite import SqliteSaver


class InlineSqliteSaver(SqliteSaver):
    """`SqliteSaver` whose async methods run the sync ones in place (no worker thread)."""

    async def aget_tuple(self, config: Any) -> CheckpointTuple | None:
        return self.get_tuple(config)

    async def alist(
        self,
        config: Any,
        *,
        filter: dict[str, Any] | None = None,
        before: Any = None,
        limit: int | None = None,
    ) -> AsyncIterator[CheckpointTuple]:
        for item in self.list(config, filter=filter, before=before, limit=limit):
            yield item

    async def aput(
        self,
        config: Any,
        checkpoint: Checkpoint,
        metadata: CheckpointMetadata,
        new_versions: ChannelVersions,
    ) -> Any:
        return self.put(config, checkpoint, metadata, new_versions)

    async def aput_writes(
        self, config: Any, writes: Sequence[tuple[str, Any]], task_id: str, task_path: str = ""
    ) -> None:
        self.put_writes(config, writes, task_id, task_path)

    async def adelete_thread(self, thread_id: str) -> None:
        self.delete_thread(thread_id)

    async def aget_delta_channel_history(self, *, config: Any, channels: Sequence[str]) -> Mapping[str, Any]:
        return self.get_delta_channel_history(config=config, channels=channels)


@contextmanager
def sqlite_checkpointer(path: Path, *, durable: bool = True) -> Iterator[InlineSqliteSaver]:
    """An `InlineSqliteSaver` on `path` (folder created). `durable=False` sets
    synchronous=NORMAL: no fsync per commit; a killed process still loses nothing committed,
    only a power cut may lose the last commits."""
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(str(path), check_same_thread=False)
    try:
        saver = InlineSqliteSaver(conn)
        saver.setup()
        conn.execute(f"PRAGMA synchronous={'FULL' if durable else 'NORMAL'}")
        yield saver
    finally:
        conn.close()
