"""The dataset's output files: append-only JSONL, one whole line per row, crash-safe.

Each row is encoded to one line and written with a single `os.write` to a file opened with
O_APPEND, then fsynced, by the one writer that owns the file. A kill -9 can at worst leave
the last line torn (a crash mid-write); `open` finds such a tail, cuts it off and says so,
so the file stays valid JSONL and the torn row is simply written again by the rerun.
Lines that are not valid JSON anywhere else are skipped when reading ids, never rewritten.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class OpenReport:
    """What `JsonlAppender` found in an existing file."""

    rows: int = 0
    torn_bytes: int = 0
    bad_lines: list[int] = field(default_factory=list)


def _read_rows(path: Path) -> Iterator[tuple[int, dict[str, Any] | None]]:
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            if not raw.strip():
                continue
            try:
                row = json.loads(raw)
            except (json.JSONDecodeError, UnicodeDecodeError):
                yield number, None
                continue
            yield number, row if isinstance(row, dict) else None


def repair_torn_tail(path: Path) -> int:
    """Cut a last line that has no newline (a write torn by a crash); the bytes cut."""
    if not path.exists():
        return 0
    size = path.stat().st_size
    if size == 0:
        return 0
    with path.open("rb+") as handle:
        handle.seek(-1, os.SEEK_END)
        if handle.read(1) == b"\n":
            return 0
        # Walk back to the last newline.
        position = size
        block = 4096
        keep = 0
        while position > 0:
            start = max(0, position - block)
            handle.seek(start)
            chunk = handle.read(position - start)
            index = chunk.rfind(b"\n")
            if index != -1:
                keep = start + index + 1
                break
            position = start
        handle.truncate(keep)
        handle.flush()
        os.fsync(handle.fileno())
        return size - keep


class JsonlAppender:
    """Appends rows as whole lines to one file, flushed and fsynced per row."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.ids: set[str] = set()
        self.report = OpenReport()
        self._fd: int | None = None

    def open(self) -> OpenReport:
        """Repair a torn tail, collect the ids already written, open for appending."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.report.torn_bytes = repair_torn_tail(self.path)
        if self.path.exists():
            for number, row in _read_rows(self.path):
                if row is None:
                    self.report.bad_lines.append(number)
                    continue
                self.report.rows += 1
                row_id = row.get("id")
                if isinstance(row_id, str):
                    self.ids.add(row_id)
        self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        return self.report

    def append(self, row: dict[str, Any]) -> None:
        """Write `row` as one line, durably, before returning."""
        if self._fd is None:
            raise RuntimeError("JsonlAppender.append before open")
        data = (json.dumps(row, ensure_ascii=False) + "\n").encode("utf-8")
        view = memoryview(data)
        while view:
            written = os.write(self._fd, view)
            view = view[written:]
        os.fsync(self._fd)
        if isinstance(row.get("id"), str):
            self.ids.add(row["id"])

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> JsonlAppender:
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
