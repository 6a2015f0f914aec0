"""The checkpoint store of AgentWrite: LangGraph's SQLite saver, called inline from async code.

LangGraph's `AsyncSqliteSaver` sends every statement through aiosqlite's worker thread; a
dataset run with dozens of writes in flight spends more CPU on those thread hand-offs than on
the pipeline itself. SQLite statements on a local file take well under a millisecond, so
this saver runs the synchronous `SqliteSaver` methods directly in the event loop instead.
Same schema, same durability (WAL; see `open_checkpointer` for the fsync setting).

`BatchedSqliteSaver` (the dataset's) goes one step further: writes are queued and committed
by one background thread, many per transaction, so the event loop never waits for SQLite.
"""

from __future__ import annotations

import asyncio
import queue
import sqlite3
import threading
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterable, Iterator, Mapping, Sequence
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


def _thread_of(config: Any) -> str | None:
    """The thread a read is about; None (every thread) when the config names none."""
    thread_id = ((config or {}).get("configurable") or {}).get("thread_id")
    return None if thread_id is None else str(thread_id)


WRITER_LINGER_S = 0.005
"""How long the checkpoint writer waits after a first write for others to join its
transaction (a killed process loses at most this much more: sections written again)."""


CHECKPOINT_TABLES = ("checkpoints", "writes")
"""The tables of LangGraph's SQLite saver; both are keyed by thread_id first."""

StoredStatements = list[tuple[str, list[tuple[Any, ...]]]]
"""Writes to a checkpoint store as SQL statements, each with its rows of parameters."""

ThreadRows = dict[str, tuple[list[str], list[tuple[Any, ...]]]]
"""One thread's stored rows, by table: (column names, rows)."""


def read_thread_rows(cur: sqlite3.Cursor, thread_id: str) -> ThreadRows:
    """Everything a store holds for `thread_id`, table by table as (columns, rows)."""
    found: ThreadRows = {}
    for table in CHECKPOINT_TABLES:
        cur.execute(f"SELECT * FROM {table} WHERE thread_id = ?", (str(thread_id),))
        found[table] = ([column[0] for column in cur.description], [tuple(row) for row in cur.fetchall()])
    return found


def write_thread_rows(cur: sqlite3.Cursor, rows: ThreadRows) -> None:
    """Store `rows` (another store's `read_thread_rows`), replacing rows of the same keys."""
    for table in CHECKPOINT_TABLES:
        columns, values = rows.get(table, ([], []))
        if values:
            names = ", ".join(columns)
            marks = ", ".join("?" for _ in columns)
            cur.executemany(f"INSERT OR REPLACE INTO {table} ({names}) VALUES ({marks})", values)


def delete_thread_rows(cur: sqlite3.Cursor, thread_id: str) -> None:
    """Delete every row of `thread_id`."""
    for table in CHECKPOINT_TABLES:
        cur.execute(f"DELETE FROM {table} WHERE thread_id = ?", (str(thread_id),))


class StatementRecorder:
    """Stands in for a cursor inside one write: keeps each statement as (sql, rows of
    parameters), and also runs it on `cursor` when given one."""

    def __init__(self, cursor: sqlite3.Cursor | None = None) -> None:
        self._cursor = cursor
        self.statements: StoredStatements = []

    def execute(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Cursor | None:
        self.statements.append((sql, [tuple(params)]))
        return self._cursor.execute(sql, params) if self._cursor is not None else None

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> sqlite3.Cursor | None:
        kept = [tuple(row) for row in rows]
        self.statements.append((sql, kept))
        return self._cursor.executemany(sql, kept) if self._cursor is not None else None


class RecordingSqliteSaver(InlineSqliteSaver):
    """An `InlineSqliteSaver` that knows, during each write, which thread it writes to
    (`writing_thread`), so that a subclass's `cursor` can record the write's statements."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        super().__init__(conn)
        self._writing = threading.local()

    def writing_thread(self) -> str | None:
        """The thread the write in progress (in this OS thread) is for; None outside writes."""
        return getattr(self._writing, "thread_id", None)

    @contextmanager
    def recording(self, thread_id: Any) -> Iterator[None]:
        """Writes made inside are writes to `thread_id`."""
        self._writing.thread_id = str(thread_id)
        try:
            yield
        finally:
            self._writing.thread_id = None

    def put(self, config: Any, checkpoint: Checkpoint, metadata: CheckpointMetadata, new_versions: ChannelVersions) -> Any:
        with self.recording(config["configurable"]["thread_id"]):
            return super().put(config, checkpoint, metadata, new_versions)

    def put_writes(self, config: Any, writes: Sequence[tuple[str, Any]], task_id: str, task_path: str = "") -> None:
        with self.recording(config["configurable"]["thread_id"]):
            super().put_writes(config, writes, task_id, task_path)


class BatchedSqliteSaver(RecordingSqliteSaver):
    """`InlineSqliteSaver` whose writes are committed by one background thread, in batches.

    A write (checkpoint, task writes, thread deletion) is serialised where it is made and
    queued; the writer thread runs every write queued at that moment in one transaction, so
    the event loop never waits for a commit and a run with dozens of writes in flight commits
    once per batch. A read of a thread first waits for that thread's queued writes (it never
    waits in a dataset run: a prompt's thread is read before it is written). A write is
    durable once committed, a millisecond or so after it is queued: a process killed with -9
    loses at most the last unwritten checkpoints, and their sections are written again.

    With `defer_deletes`, deleting a finished thread is left to the caller (`delete_now`),
    so that the dataset deletes a prompt's checkpoint only after its row is on disk.
    """

    def __init__(self, conn: sqlite3.Connection, path: Path, *, durable: bool, defer_deletes: bool = False) -> None:
        super().__init__(conn)
        self.path = path
        self.durable = durable
        self.defer_deletes = defer_deletes
        self._queue: queue.SimpleQueue[tuple[str, StoredStatements] | None] = queue.SimpleQueue()
        self._state = threading.Condition()
        self._pending: Counter[str] = Counter()
        self._failure: BaseException | None = None
        self._writer = threading.Thread(target=self._write_batches, name="longdoc-checkpoints", daemon=True)
        self._writer.start()

    # -- writes: recorded by `cursor`, committed by the writer thread ---------------------

    @contextmanager
    def cursor(self, transaction: bool = True) -> Iterator[Any]:
        thread_id = self.writing_thread()
        if not transaction or thread_id is None:  # a read: its method waited for its writes
            with super().cursor(transaction) as cur:
                yield cur
            return
        recorder = StatementRecorder()
        yield recorder
        self._raise_failure()
        with self._state:
            self._pending[thread_id] += 1
        self._queue.put((thread_id, recorder.statements))

    def delete_thread(self, thread_id: str) -> None:
        if not self.defer_deletes:
            self.delete_now(thread_id)

    def delete_now(self, thread_id: str) -> None:
        """Delete `thread_id`'s checkpoints (queued like any write)."""
        with self.recording(thread_id):
            super().delete_thread(thread_id)

    def replay(self, thread_id: str, statements: StoredStatements) -> None:
        """Queue `statements`, recorded by another store's writes to `thread_id` (see
        `dataset.checkpoint_relay`), as this store's own writes to it."""
        with self.recording(thread_id), self.cursor() as cur:
            for sql, rows in statements:
                cur.executemany(sql, rows)

    def thread_rows(self, thread_id: str) -> ThreadRows:
        """Everything stored for `thread_id` (its queued writes committed first), table by
        table as (columns, rows): what another store needs to resume the thread."""
        self._wait_for(str(thread_id))
        with super().cursor(transaction=False) as cur:
            return read_thread_rows(cur, thread_id)

    def thread_ids(self) -> set[str]:
        """Every thread with a checkpoint stored."""
        self._wait_for(None)
        with super().cursor(transaction=False) as cur:
            cur.execute("SELECT DISTINCT thread_id FROM checkpoints")
            return {row[0] for row in cur.fetchall()}

    def _write_batches(self) -> None:
        conn = sqlite3.connect(str(self.path), timeout=30, isolation_level=None, check_same_thread=False)
        conn.execute(f"PRAGMA synchronous={'FULL' if self.durable else 'NORMAL'}")
        try:
            while True:
                first = self._queue.get()
                if first is None:
                    return
                time.sleep(WRITER_LINGER_S)
                batch = [first]
                stop = False
                while True:
                    try:
                        item = self._queue.get_nowait()
                    except queue.Empty:
                        break
                    if item is None:
                        stop = True
                        break
                    batch.append(item)
                try:
                    conn.execute("BEGIN IMMEDIATE")
                    try:
                        for _, statements in batch:
                            for sql, rows in statements:
                                conn.executemany(sql, rows)
                        conn.execute("COMMIT")
                    except BaseException:
                        conn.execute("ROLLBACK")
                        raise
                except Exception as exc:  # kept, and raised to the next caller: the run stops
                    self._failure = exc
                finally:
                    with self._state:
                        for thread_id, _ in batch:
                            self._pending[thread_id] -= 1
                            if self._pending[thread_id] <= 0:
                                del self._pending[thread_id]
                        self._state.notify_all()
                if stop:
                    return
        finally:
            conn.close()

    # -- reads: wait for the thread's own queued writes first ------------------------------

    def _raise_failure(self) -> None:
        if self._failure is not None:
            raise self._failure

    def _wait_for(self, thread_id: str | None) -> None:
        with self._state:
            self._state.wait_for(lambda: not (self._pending[thread_id] if thread_id else self._pending))
        self._raise_failure()

    async def _await_writes(self, thread_id: str | None) -> None:
        if self._pending[thread_id] if thread_id else self._pending:
            await asyncio.to_thread(self._wait_for, thread_id)

    def get_tuple(self, config: Any) -> CheckpointTuple | None:
        self._wait_for(_thread_of(config))
        return super().get_tuple(config)

    def list(
        self, config: Any, *, filter: dict[str, Any] | None = None, before: Any = None, limit: int | None = None
    ) -> Iterator[CheckpointTuple]:
        self._wait_for(_thread_of(config))
        return super().list(config, filter=filter, before=before, limit=limit)

    def get_delta_channel_history(self, *, config: Any, channels: Sequence[str]) -> Mapping[str, Any]:
        self._wait_for(_thread_of(config))
        return super().get_delta_channel_history(config=config, channels=channels)

    async def aget_tuple(self, config: Any) -> CheckpointTuple | None:
        await self._await_writes(_thread_of(config))
        return self.get_tuple(config)

    async def alist(
        self, config: Any, *, filter: dict[str, Any] | None = None, before: Any = None, limit: int | None = None
    ) -> AsyncIterator[CheckpointTuple]:
        await self._await_writes(_thread_of(config))
        for item in self.list(config, filter=filter, before=before, limit=limit):
            yield item

    async def aget_delta_channel_history(self, *, config: Any, channels: Sequence[str]) -> Mapping[str, Any]:
        await self._await_writes(_thread_of(config))
        return self.get_delta_channel_history(config=config, channels=channels)

    def flush(self) -> None:
        """Wait until every queued write is committed (raises a write's failure)."""
        self._wait_for(None)

    async def acommitted(self, thread_id: str) -> None:
        """Wait until `thread_id`'s queued writes are committed (raises a write's failure):
        before another process may delete the thread, or they would land after its delete."""
        await self._await_writes(str(thread_id))
        self._raise_failure()

    def close(self) -> None:
        """Commit what is queued and stop the writer thread."""
        self._queue.put(None)
        self._writer.join()
        self._raise_failure()


@contextmanager
def batched_sqlite_checkpointer(
    path: Path, *, durable: bool = False, defer_deletes: bool = False
) -> Iterator[BatchedSqliteSaver]:
    """A `BatchedSqliteSaver` on `path` (folder created, WAL); committed and closed on exit."""
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(str(path), check_same_thread=False)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        saver = BatchedSqliteSaver(conn, path, durable=durable, defer_deletes=defer_deletes)
        try:
            saver.setup()
            yield saver
        finally:
            saver.close()
    finally:
        conn.close()
