"""The call log: every model call in one SQLite file in the cache directory, for `longdoc logs`
and as the store the response cache (`response_cache`) reads its answers from.

Every call is logged (request, response or error, usage, latency, time); a successful
response doubles as the cache entry for its key. API keys never reach this file: requests
are stored as `CompletionRequest` JSON, and endpoint identities are URLs without credentials.

The file is in WAL mode with a busy timeout, so threads, tasks and concurrent processes
can read and write it together; each thread has its own connection.

Rows are written by one background thread per log, all rows queued at that moment in one
transaction, so a call never waits for a commit and a busy run commits once per batch rather
than once per call. A response not yet committed is answered from memory; `recent`, `count`
and the end of the process (atexit) wait for the queue to drain. A process killed with -9
loses the rows of its last few milliseconds: those calls are simply not cached.
"""

from __future__ import annotations

import atexit
import logging
import queue
import sqlite3
import threading
import time
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from ..errors import ModelError
from .base import Completion, CompletionRequest

CALL_LOG_NAME = "calls.sqlite3"

_log = logging.getLogger(__name__)

BUSY_TIMEOUT_MS = 30_000
"""How long a writer waits for another process's write lock before giving up."""

MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE calls (
        id INTEGER PRIMARY KEY,
        key TEXT NOT NULL,
        created_at REAL NOT NULL,
        endpoint TEXT NOT NULL,
        model TEXT NOT NULL,
        cached INTEGER NOT NULL DEFAULT 0,
        request TEXT,
        response TEXT,
        error TEXT,
        status INTEGER,
        prompt_tokens INTEGER NOT NULL DEFAULT 0,
        completion_tokens INTEGER NOT NULL DEFAULT 0,
        latency_s REAL NOT NULL DEFAULT 0,
        cost_usd REAL
    );
    CREATE INDEX calls_by_key ON calls (key) WHERE response IS NOT NULL AND cached = 0;
    CREATE INDEX calls_by_time ON calls (created_at);
    """,
)
"""Schema changes in order; `PRAGMA user_version` records how many have been applied."""

WRITER_LINGER_S = 0.01
"""How long the writer waits after a first row for others to join its transaction: one
commit for every call that ends within it (rows are at risk for this long, at most)."""

WRITER_IDLE_S = 2.0
"""A log's writer thread ends after this long with nothing to write (the next row starts a
new one), so a process holding many logs does not keep a thread per log."""

_COLUMNS = (
    "key", "created_at", "endpoint", "model", "cached", "request", "response", "error", "status",
    "prompt_tokens", "completion_tokens", "latency_s", "cost_usd",
)
_INSERT = f"INSERT INTO calls ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' for _ in _COLUMNS)})"

_open_logs: weakref.WeakSet[CallLog] = weakref.WeakSet()


@atexit.register
def _flush_open_logs() -> None:
    for log in list(_open_logs):
        log.flush()


class CallRecord(BaseModel):
    """One row of the call log, as `longdoc logs` shows it."""

    id: int
    created_at: float
    endpoint: str
    model: str
    cached: bool
    prompt_tokens: int
    completion_tokens: int
    latency_s: float
    cost_usd: float | None
    status: int | None
    error: str | None
    prompt: str
    text: str | None



def _enable_wal(conn: sqlite3.Connection) -> None:
    """Switch to WAL, waiting out a rival process doing the same.

    Changing the journal mode needs an exclusive lock, and SQLite can answer "database is
    locked" at once instead of calling the busy handler when two processes open a new file
    together; so retry with backoff for as long as the busy timeout allows.
    """
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    delay = 0.005
    while True:
        try:
            conn.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() >= deadline:
                raise
            time.sleep(delay)
            delay = min(delay * 2, 0.2)


class CallLog:
    """The SQLite file behind the cache and `longdoc logs`."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self._migrate(self._connection())
        self._queue: queue.SimpleQueue[tuple[Callable[[], tuple[Any, ...]], str | None, Completion | None]] = (
            queue.SimpleQueue()
        )
        self._state = threading.Condition()
        self._queued = 0
        """Rows handed to the writer and not yet committed (or dropped on an error)."""
        self._uncommitted: dict[str, Completion] = {}
        """Responses queued for writing, by key: what `lookup` answers until they are committed."""
        self._writer: threading.Thread | None = None
        _open_logs.add(self)

    @classmethod
    def in_dir(cls, cache_dir: Path) -> CallLog:
        return cls(Path(cache_dir) / CALL_LOG_NAME)

    def _connection(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            _enable_wal(conn)
            conn.execute("PRAGMA synchronous = NORMAL")
            self._local.conn = conn
        return conn

    def _migrate(self, conn: sqlite3.Connection) -> None:
        if conn.execute("PRAGMA user_version").fetchone()[0] >= len(MIGRATIONS):
            return
        conn.execute("BEGIN IMMEDIATE")  # one process migrates; the others wait, then see it done
        try:
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            for number in range(version, len(MIGRATIONS)):
                for statement in MIGRATIONS[number].split(";"):
                    if statement.strip():
                        conn.execute(statement)
                conn.execute(f"PRAGMA user_version = {number + 1}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    def lookup(self, key: str) -> Completion | None:
        queued = self._uncommitted.get(key)
        if queued is not None:
            return queued
        row = self._connection().execute(
            "SELECT response FROM calls WHERE key = ? AND response IS NOT NULL AND cached = 0 "
            "ORDER BY id DESC LIMIT 1",
            (key,),
        ).fetchone()
        return Completion.model_validate_json(row[0]) if row else None

    # -- writing: callers queue rows, one background thread commits them in batches --------

    def _enqueue(
        self, row: Callable[[], tuple[Any, ...]], key: str | None = None, response: Completion | None = None
    ) -> None:
        """Queue a row (built, serialisation included, by the writer thread)."""
        with self._state:
            self._queued += 1
            if response is not None and key is not None:
                self._uncommitted[key] = response
            if self._writer is None:
                self._writer = threading.Thread(target=self._write_batches, name="longdoc-call-log", daemon=True)
                self._writer.start()
        self._queue.put((row, key, response))

    def _write_batches(self) -> None:
        while True:
            try:
                batch = [self._queue.get(timeout=WRITER_IDLE_S)]
            except queue.Empty:
                with self._state:
                    if self._queued == 0:
                        self._writer = None
                        return
                continue
            time.sleep(WRITER_LINGER_S)
            while True:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            try:
                conn = self._connection()
                rows = [build() for build, _, _ in batch]
                conn.execute("BEGIN IMMEDIATE")
                try:
                    conn.executemany(_INSERT, rows)
                    conn.execute("COMMIT")
                except BaseException:
                    conn.execute("ROLLBACK")
                    raise
            except Exception as exc:  # the writer must outlive any bad row: flush() waits on it
                # A log that cannot be written (disk full, locked too long) costs the cache
                # entries, never the run.
                _log.warning("call log write failed in %s (%d rows dropped): %s", self.path, len(batch), exc)
            finally:
                with self._state:
                    self._queued -= len(batch)
                    for _, key, response in batch:
                        if response is not None and self._uncommitted.get(key) is response:
                            del self._uncommitted[key]
                    self._state.notify_all()

    def _flush_all(self) -> None:
        """Wait for the rows queued by every log of this process on the same file (`longdoc
        logs` opens its own `CallLog` beside the one the model wrote through)."""
        for log in list(_open_logs):
            if log is self or log.path.resolve() == self.path.resolve():
                log.flush()

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until every row queued so far is committed; False if `timeout` ran out."""
        with self._state:
            return self._state.wait_for(lambda: self._queued == 0, timeout)

    def record(
        self,
        key: str,
        endpoint: str,
        request: CompletionRequest,
        completion: Completion,
        request_json: str | None = None,
    ) -> None:
        created_at = time.time()

        def row() -> tuple[Any, ...]:
            stored = not completion.cached
            return (
                key, created_at, endpoint, completion.model, int(completion.cached),
                (request_json or request.model_dump_json()) if stored else None,
                completion.model_dump_json() if stored else None,
                None, None,
                completion.usage.prompt_tokens, completion.usage.completion_tokens,
                completion.latency_s, completion.cost_usd,
            )  # fmt: skip

        self._enqueue(row, key, None if completion.cached else completion)

    def record_error(
        self,
        key: str,
        endpoint: str,
        model: str,
        request: CompletionRequest,
        error: ModelError,
        latency_s: float,
        request_json: str | None = None,
    ) -> None:
        created_at = time.time()
        message = f"{type(error).__name__}: {error}"

        def row() -> tuple[Any, ...]:
            return (
                key, created_at, endpoint, model, 0, request_json or request.model_dump_json(), None, message,
                error.status, 0, 0, latency_s, None,
            )  # fmt: skip

        self._enqueue(row)

    def recent(self, limit: int = 20) -> list[CallRecord]:
        """The latest calls, newest first; a cache hit shows its original prompt."""
        self._flush_all()
        rows = self._connection().execute(
            """
            SELECT c.id, c.created_at, c.endpoint, c.model, c.cached, c.prompt_tokens,
                   c.completion_tokens, c.latency_s, c.cost_usd, c.status, c.error,
                   COALESCE(c.request, (SELECT o.request FROM calls o WHERE o.key = c.key
                            AND o.response IS NOT NULL AND o.cached = 0 LIMIT 1)),
                   COALESCE(c.response, (SELECT o.response FROM calls o WHERE o.key = c.key
                            AND o.response IS NOT NULL AND o.cached = 0 LIMIT 1))
            FROM calls c ORDER BY c.id DESC LIMIT ?
            """,
            (limit,),
        ).fetchall()
        return [_call_record(row) for row in rows]

    def count(self) -> int:
        self._flush_all()
        return self._connection().execute("SELECT COUNT(*) FROM calls").fetchone()[0]


def _call_record(row: tuple[Any, ...]) -> CallRecord:
    (id_, created, endpoint, model, cached, pt, ct, latency, cost, status, error, req, resp) = row
    prompt = ""
    if req:
        request = CompletionRequest.model_validate_json(req)
        prompt = request.prompt if request.prompt is not None else "\n\n".join(
            m.content for m in request.messages
        )
    text = Completion.model_validate_json(resp).text if resp else None
    return CallRecord(
        id=id_,
        created_at=created,
        endpoint=endpoint,
        model=model,
        cached=bool(cached),
        prompt_tokens=pt,
        completion_tokens=ct,
        latency_s=latency,
        cost_usd=cost,
        status=status,
        error=error,
        prompt=prompt,
        text=text,
    )
