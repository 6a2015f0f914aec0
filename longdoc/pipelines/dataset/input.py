"""Prompts for dataset generation: JSONL (`prompt`, optional `length`) or one prompt a line.

Bad lines are collected as `InputFormatError`s with their line numbers, and skipped, so one
broken record never stops a run over thousands.
"""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from ...errors import ConfigError, InputFormatError, SourceError

JSONL_SUFFIXES = {".jsonl", ".ndjson", ".json"}


class PromptItem(BaseModel):
    """One prompt to write, with its 1-based line number in the input and its target length."""

    model_config = ConfigDict(frozen=True)

    line: int
    prompt: str = Field(min_length=1)
    words: int = Field(ge=1)


def is_jsonl(path: Path, lines: list[str]) -> bool:
    """JSONL by suffix, or (any suffix) when the first non-blank line opens a JSON object."""
    if path.suffix.lower() in JSONL_SUFFIXES:
        return True
    first = next((line for line in lines if line.strip()), "")
    return first.lstrip().startswith("{")


def _length(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value > 0 else None
    if isinstance(value, float) and value.is_integer() and value > 0:
        return int(value)
    if isinstance(value, str) and value.strip().isdigit() and int(value) > 0:
        return int(value)
    return None


def parse_jsonl_line(text: str, number: int, default_words: int, path: Path) -> PromptItem:
    try:
        record = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputFormatError(f"not valid JSON ({exc.msg} at column {exc.colno})", path=path, line=number) from exc
    if not isinstance(record, dict):
        raise InputFormatError("expected a JSON object", path=path, line=number)
    prompt = record.get("prompt")
    if not isinstance(prompt, str) or not prompt.strip():
        raise InputFormatError("no `prompt` string", path=path, line=number)
    words = default_words
    if record.get("length") is not None:
        length = _length(record["length"])
        if length is None:
            raise InputFormatError(
                f"`length` must be a positive whole number of words, got {record['length']!r}",
                path=path,
                line=number,
            )
        words = length
    return PromptItem(line=number, prompt=prompt.strip(), words=words)


def read_prompts(path: Path, default_words: int) -> tuple[list[PromptItem], list[InputFormatError]]:
    """The prompts of `path` and the errors of the lines that could not be read."""
    if default_words < 1:
        raise ConfigError(f"the default length must be a positive number of words, got {default_words!r}")
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise SourceError(f"cannot read prompts: {exc}", path=path) from exc
    items: list[PromptItem] = []
    errors: list[InputFormatError] = []
    jsonl = is_jsonl(path, lines)
    for number, text in enumerate(lines, start=1):
        if not text.strip():
            continue
        if not jsonl:
            items.append(PromptItem(line=number, prompt=text.strip(), words=default_words))
            continue
        try:
            items.append(parse_jsonl_line(text, number, default_words, path))
        except InputFormatError as exc:
            errors.append(exc)
    return items, errors
