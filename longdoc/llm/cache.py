"""The response cache and call log: one SQLite file in the cache directory.

Every call is logged (request, response or error, usage, latency, time); a successful
response doubles as the cache entry for its key, so a rerun of the same job is answered
from here without a model call. The key is a hash of the endpoint's identity, the model,
the rendering style and the whole request (prompt/messages and every parameter), so a
change to any of them is a miss. API keys never reach this file: requests are stored as
the `CompletionRequest` longdoc built, and endpoint identities are URLs without
credentials.

The file is in WAL mode with a busy timeout, so threads, tasks and concurrent processes
can read and write it together; each thread has its own connection. Responses are cached
at every temperature: longdoc's jobs use temperature 0, and a rerun should reproduce a run.
"""

from __future__ import annotations

import hashlib
import json
import logging
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from ..errors import ModelError
from .base import Completion, CompletionRequest, Model, ModelWrapper

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


def request_key(endpoint: str, model: str, completion_style: bool, request: CompletionRequest) -> str:
    payload = {
        "endpoint": endpoint,
        "model": model,
        "completion_style": completion_style,
        "request": request.model_dump(mode="json"),
    }
    blob = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


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
        row = self._connection().execute(
            "SELECT response FROM calls WHERE key = ? AND response IS NOT NULL AND cached = 0 "
            "ORDER BY id DESC LIMIT 1",
            (key,),
        ).fetchone()
        return Completion.model_validate_json(row[0]) if row else None

    def _insert(self, **columns: Any) -> None:
        names = ", ".join(columns)
        marks = ", ".join("?" for _ in columns)
        self._connection().execute(
            f"INSERT INTO calls ({names}) VALUES ({marks})", tuple(columns.values())
        )

    def record(
        self, key: str, endpoint: str, request: CompletionRequest, completion: Completion
    ) -> None:
        self._insert(
            key=key,
            created_at=time.time(),
            endpoint=endpoint,
            model=completion.model,
            cached=int(completion.cached),
            request=None if completion.cached else request.model_dump_json(),
            response=None if completion.cached else completion.model_dump_json(),
            prompt_tokens=completion.usage.prompt_tokens,
            completion_tokens=completion.usage.completion_tokens,
            latency_s=completion.latency_s,
            cost_usd=completion.cost_usd,
        )

    def record_error(
        self, key: str, endpoint: str, model: str, request: CompletionRequest, error: ModelError, latency_s: float
    ) -> None:
        self._insert(
            key=key,
            created_at=time.time(),
            endpoint=endpoint,
            model=model,
            request=request.model_dump_json(),
            error=f"{type(error).__name__}: {error}",
            status=error.status,
            latency_s=latency_s,
        )

    def recent(self, limit: int = 20) -> list[CallRecord]:
        """The latest calls, newest first; a cache hit shows its original prompt."""
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


def endpoint_identity(model: Model) -> str:
    """What makes a backend's answers its own: `cache_identity` where the backend has one."""
    identity = getattr(model, "cache_identity", None)
    return identity if isinstance(identity, str) else f"{type(model).__name__}:{model.name}"


class CachedModel(ModelWrapper):
    """A model whose answers are looked up in, and written to, a `CallLog`.

    With `read=False` (`--no-cache`) every call reaches the backend; calls are still logged.
    """

    def __init__(
        self, inner: Model, log: CallLog, *, read: bool = True, endpoint: str | None = None
    ) -> None:
        super().__init__(inner)
        self.log = log
        self.read = read
        self.endpoint = endpoint or endpoint_identity(inner)
        """The endpoint identity in every key (the backend's, when `inner` wraps one)."""

    def _key(self, request: CompletionRequest) -> tuple[str, str]:
        endpoint = self.endpoint
        return endpoint, request_key(endpoint, self.inner.name, self.inner.completion_style, request)

    def _hit(self, key: str, endpoint: str, request: CompletionRequest, started: float) -> Completion | None:
        if not self.read:
            return None
        try:
            stored = self.log.lookup(key)
        except sqlite3.Error as exc:  # an unreadable cache is a miss, not a failed call
            _log.warning("cache lookup failed in %s: %s", self.log.path, exc)
            return None
        if stored is None:
            return None
        hit = stored.model_copy(update={"cached": True, "latency_s": time.perf_counter() - started})
        self._write(self.log.record, key, endpoint, request, hit)
        return hit

    def _write(self, method: Callable[..., None], *args: object) -> None:
        """Log a call; a log that cannot be written (disk full, locked for too long) costs
        the cache entry, never the answer already paid for."""
        try:
            method(*args)
        except sqlite3.Error as exc:
            _log.warning("call log write failed in %s: %s", self.log.path, exc)

    def complete(self, request: CompletionRequest) -> Completion:
        started = time.perf_counter()
        endpoint, key = self._key(request)
        hit = self._hit(key, endpoint, request, started)
        if hit is not None:
            return hit
        try:
            completion = self.inner.complete(request)
        except ModelError as exc:
            self._write(
                self.log.record_error, key, endpoint, self.inner.name, request, exc, time.perf_counter() - started
            )
            raise
        self._write(self.log.record, key, endpoint, request, completion)
        return completion

    async def acomplete(self, request: CompletionRequest) -> Completion:
        started = time.perf_counter()
        endpoint, key = self._key(request)
        hit = self._hit(key, endpoint, request, started)
        if hit is not None:
            return hit
        try:
            completion = await self.inner.acomplete(request)
        except ModelError as exc:
            self._write(
                self.log.record_error, key, endpoint, self.inner.name, request, exc, time.perf_counter() - started
            )
            raise
        self._write(self.log.record, key, endpoint, request, completion)
        return completion
