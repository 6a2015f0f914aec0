"""One document of a batch: what it is asked (`BatchTask`), its row id, reading it as
`longdoc ask` or `longdoc summarize` would, and its row or failure (`BatchOutcome`)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ..config import Settings
from ..errors import LongdocError, ModelError, SourceError
from ..results import AnswerResult

BATCH_VERSION = 1
"""Part of every row id: bump it when a change makes earlier rows stale."""

DEFAULT_PARALLEL = 4
"""Documents read at once by default; each read has its own `--concurrency` calls in flight."""


class BatchTask(BaseModel):
    """What every document of the batch is asked: a question, or a summary."""

    model_config = ConfigDict(frozen=True)

    mode: Literal["ask", "summarize"]
    question: str | None = None
    words: int | None = None
    focus: str | None = None
    strategy: str = "chain"
    budget: int | None = None
    parallel: int = Field(default=DEFAULT_PARALLEL, ge=1)
    ray: str | None = None
    """Read on a Ray cluster ("local", "auto", "ray://host:port"); None never imports Ray."""

    def key(self, path: Path, model_name: str) -> str:
        """The row id of `path`: its absolute path, the task and the model, hashed."""
        fields = self.model_dump(exclude={"parallel", "ray"})
        payload = json.dumps(
            {"v": BATCH_VERSION, "path": str(path.resolve()), "model": model_name, **fields}, sort_keys=True
        )
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:32]


@dataclass(frozen=True)
class BatchDocument:
    """One document of the batch: its path as listed, and its row id."""

    path: Path
    key: str


def list_documents(paths: Iterable[Path]) -> list[Path]:
    """Every document the paths name, in order: a file (or a path that does not exist, which
    becomes an error row), or each file under a folder, sorted, hidden ones skipped."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(
                sorted(
                    p
                    for p in path.rglob("*")
                    if p.is_file() and not any(part.startswith(".") for part in p.relative_to(path).parts)
                )
            )
        else:
            found.append(path)
    return found


def answer_row(document: BatchDocument, result: AnswerResult) -> dict[str, Any]:
    """The row of a read document: id, path, then the fields of `ask --json`."""
    data = result.model_dump(mode="json", exclude={"notes"})
    if data.get("segments") is None:
        data.pop("segments", None)
    return {"id": document.key, "path": str(document.path), **data}


def error_row(document: BatchDocument, reason: str) -> dict[str, Any]:
    return {"id": document.key, "path": str(document.path), "error": reason}


def read_document(task: BatchTask, source: Any, settings: Settings, model: Any | None = None) -> AnswerResult:
    """Read one document (a path, or the `Document`s loaded from it) as `longdoc ask` or
    `longdoc summarize` would."""
    from .. import api

    if task.mode == "ask":
        return api.ask(source, task.question or "", strategy=task.strategy, settings=settings, model=model)
    return api.summarize(
        source, words=task.words, focus=task.focus, strategy=task.strategy, settings=settings, model=model,
        budget=task.budget,
    )


@dataclass(frozen=True)
class BatchOutcome:
    """What became of one document: its row (an answer or an error), or a model failure."""

    key: str
    row: dict[str, Any] | None = None
    failure: str | None = None


def outcome_of(document: BatchDocument, read: Callable[[], AnswerResult]) -> BatchOutcome:
    """Run `read` and sort what happens: an answer row, an error row for a document that
    cannot be read, a failure (left for the rerun) for a model error."""
    try:
        return BatchOutcome(document.key, answer_row(document, read()))
    except SourceError as exc:
        return BatchOutcome(document.key, error_row(document, str(exc)))
    except ModelError as exc:
        return BatchOutcome(document.key, failure=f"{document.path}: {exc}")
    except LongdocError as exc:  # anything else longdoc refuses for this document
        return BatchOutcome(document.key, error_row(document, str(exc)))
