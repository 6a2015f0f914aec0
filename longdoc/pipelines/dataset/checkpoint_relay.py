"""A checkpoint store that relays its writes to another store, for writers on other machines.

A Ray actor writing prompts for a dataset run has no file the run's driver can read, so its
AgentWrite checkpoints go to a `RelaySqliteSaver`: an in-memory SQLite database with
LangGraph's schema that also keeps every write it commits as SQL statements, thread by
thread (`take`). The driver replays them into its own store (`BatchedSqliteSaver.replay`),
which stays the only durable copy; to resume a thread elsewhere, the driver's rows for it
(`BatchedSqliteSaver.thread_rows`) are loaded into the next writer's store (`load`). Both
stores have the same schema, so a relayed write is exactly the write the driver would have
made itself: no LangGraph object crosses the wire, only SQL rows.

Deleting a thread is local only: the driver deletes a prompt's checkpoints itself, once its
row is on disk.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from ..checkpoints import (
    RecordingSqliteSaver,
    StatementRecorder,
    StoredStatements,
    ThreadRows,
    delete_thread_rows,
    write_thread_rows,
)


class RelaySqliteSaver(RecordingSqliteSaver):
    """An in-memory `InlineSqliteSaver` whose committed writes wait in an outbox per thread.

    Used from one event loop (the async methods run the sync ones in place); `changed(thread)`
    is an event set whenever the thread has statements to `take`.
    """

    def __init__(self) -> None:
        super().__init__(sqlite3.connect(":memory:", check_same_thread=False))
        self.setup()
        self._outbox: dict[str, StoredStatements] = {}
        self._changed: dict[str, asyncio.Event] = {}

    @contextmanager
    def cursor(self, transaction: bool = True) -> Iterator[Any]:
        thread_id = self.writing_thread()
        with super().cursor(transaction) as cur:
            if not transaction or thread_id is None:
                yield cur
                return
            recorder = StatementRecorder(cur)
            yield recorder
        self._outbox.setdefault(thread_id, []).extend(recorder.statements)
        if thread_id in self._changed:
            self._changed[thread_id].set()

    # -- the relay -----------------------------------------------------------------------

    def load(self, thread_id: str, rows: ThreadRows) -> None:
        """Start `thread_id` from `rows` (another store's `thread_rows`), replacing what this
        store held for it; the rows are not relayed back."""
        self.forget(thread_id)
        with super().cursor() as cur:
            write_thread_rows(cur, rows)

    def changed(self, thread_id: str) -> asyncio.Event:
        """An event set when `thread_id` has statements waiting (create it in the loop)."""
        event = self._changed.setdefault(str(thread_id), asyncio.Event())
        if self._outbox.get(str(thread_id)):
            event.set()
        return event

    def take(self, thread_id: str) -> StoredStatements:
        """The statements `thread_id` committed since the last `take`, oldest first."""
        self._changed.get(str(thread_id), asyncio.Event()).clear()
        return self._outbox.pop(str(thread_id), [])

    def forget(self, thread_id: str) -> None:
        """Drop `thread_id` here (rows, outbox, event) without relaying anything."""
        self._delete_rows(thread_id)
        self._outbox.pop(str(thread_id), None)
        self._changed.pop(str(thread_id), None)

    def delete_thread(self, thread_id: str) -> None:
        """Local only, and the outbox is kept (its last checkpoints still go to the driver,
        which deletes the thread in its own store once the prompt's row is on disk)."""
        self._delete_rows(thread_id)

    def _delete_rows(self, thread_id: str) -> None:
        with super().cursor() as cur:
            delete_thread_rows(cur, thread_id)
