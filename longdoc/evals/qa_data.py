"""Long-document QA datasets as JSON Lines: the L-Eval line format and a plain
{context, question, answers} format, read into one question per item."""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from ..errors import InputFormatError, SourceError


class QAItem(BaseModel):
    """One question about one document, with its gold answers."""

    model_config = ConfigDict(frozen=True)

    id: str
    """Stable across runs: `<line>` or `<line>.<question index>` (resuming keys on it)."""
    document_id: str
    context: str
    question: str
    answers: tuple[str, ...]
    metric: str | None = None
    """The dataset's own metric name where it gives one (L-Eval's `evaluation`)."""


def _strings(value: object, *, what: str, path: Path, line: int) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return list(value)
    raise InputFormatError(f"{what} must be a string or a list of strings", path=path, line=line)


def parse_record(record: dict, *, path: Path, line: int) -> list[QAItem]:
    """The questions of one JSON record (L-Eval or {context, question, answers})."""
    if "input" in record and "instructions" in record:
        questions = _strings(record["instructions"], what="instructions", path=path, line=line)
        outputs = _strings(record.get("outputs", []), what="outputs", path=path, line=line)
        if len(outputs) != len(questions):
            raise InputFormatError(
                f"{len(questions)} instructions but {len(outputs)} outputs", path=path, line=line
            )
        if not isinstance(record["input"], str):
            raise InputFormatError("input must be a string", path=path, line=line)
        return [
            QAItem(
                id=f"{line}.{k}",
                document_id=f"{path.name}:{line}",
                context=record["input"],
                question=q,
                answers=(a,),
                metric=record.get("evaluation"),
            )
            for k, (q, a) in enumerate(zip(questions, outputs, strict=True))
        ]
    missing = [k for k in ("context", "question", "answers") if k not in record]
    if missing:
        raise InputFormatError(
            "expected L-Eval fields (input, instructions, outputs) or context, question, answers; "
            f"missing {', '.join(missing)}",
            path=path,
            line=line,
        )
    if not isinstance(record["context"], str) or not isinstance(record["question"], str):
        raise InputFormatError("context and question must be strings", path=path, line=line)
    return [
        QAItem(
            id=str(record.get("id", line)),
            document_id=f"{path.name}:{line}",
            context=record["context"],
            question=record["question"],
            answers=tuple(_strings(record["answers"], what="answers", path=path, line=line)),
            metric=record.get("metric"),
        )
    ]


def load_qa(path: str | Path, *, limit: int | None = None) -> list[QAItem]:
    """The questions of a JSONL file in file order, at most `limit` of them."""
    path = Path(path)
    try:
        handle = path.open(encoding="utf-8")
    except OSError as exc:
        raise SourceError(f"cannot read: {exc.strerror or exc}", path=path) from exc
    items: list[QAItem] = []
    with handle:
        for number, raw in enumerate(handle, start=1):
            if not raw.strip():
                continue
            try:
                record = json.loads(raw)
            except json.JSONDecodeError as exc:
                raise InputFormatError(f"not JSON: {exc.msg}", path=path, line=number) from exc
            if not isinstance(record, dict):
                raise InputFormatError("each line must be a JSON object", path=path, line=number)
            items.extend(parse_record(record, path=path, line=number))
            if limit is not None and len(items) >= limit:
                return items[:limit]
    return items
