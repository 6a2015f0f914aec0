"""A long write's output file, grown one whole section at a time as the sections finish.

`longdoc write -o FILE` hands every finished section to `SectionFile.add`, which appends it
with one `os.write` and an fsync, so FILE always ends at a section boundary and a crash
leaves every finished section on disk. A rerun resumes the write from its checkpoint and
replays the sections the checkpoint holds first: those FILE already has are skipped, and a
tail FILE has but the run does not (a torn append, a section written after the last
checkpoint, another instruction's text) is cut before the run's own text goes on, so no
section is ever duplicated.
"""

from __future__ import annotations

import os
from pathlib import Path

SECTION_SEPARATOR = "\n\n"
"""Between sections, as `WriteResult.text` joins them."""


class SectionFile:
    """FILE as the concatenation of the sections added so far (text, then a final newline
    from `finish`)."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        try:
            self._on_disk = self.path.read_bytes()
        except FileNotFoundError:
            self._on_disk = b""
        self._expected = b""
        """What FILE holds once the sections added so far are on disk."""
        self.appended = 0
        """Sections written by this run (the others were on disk already)."""

    def add(self, text: str) -> str:
        """Put the next section on disk unless FILE has it already; returns the piece of
        text that section adds (separator included), for a caller that also streams it."""
        if not text:
            return ""
        piece = ((SECTION_SEPARATOR if self._expected else "") + text).encode("utf-8")
        expected = self._expected + piece
        if not self._on_disk.startswith(expected):
            self._write_at(len(self._expected), piece)
            self._on_disk = expected
            self.appended += 1
        self._expected = expected
        return piece.decode("utf-8")

    def finish(self, text: str) -> None:
        """End FILE as the finished write: `text` and a newline (rewritten whole, atomically,
        in the unexpected case that the sections added do not add up to `text`)."""
        final = (text + "\n").encode("utf-8")
        if self._expected == final[:-1]:
            if self._on_disk != final:
                self._write_at(len(self._expected), b"\n")
                self._on_disk = final
            return
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        tmp.write_bytes(final)
        tmp.replace(self.path)
        self._on_disk = self._expected = final

    def _write_at(self, offset: int, data: bytes) -> None:
        """Cut FILE to `offset` bytes, then append `data` in one write, and fsync."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT, 0o644)
        try:
            if os.fstat(fd).st_size != offset:
                os.ftruncate(fd, offset)
            os.lseek(fd, offset, os.SEEK_SET)
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        finally:
            os.close(fd)
