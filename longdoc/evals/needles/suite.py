"""Loading the needle suite: one JSON file per needle, validated, with the file and field
named when one is wrong."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ...errors import SourceError

Kind = Literal["one-word", "number", "name", "two-sentence", "paraphrase", "distractor", "multi"]
KINDS: tuple[str, ...] = Kind.__args__

Answer = str | list[str]
"""One required answer part: a string, or a list of alternatives (any one will do)."""


class SuiteNeedle(BaseModel):
    """One needle of the suite: the sentence(s) to hide, optional distractors (close in
    wording, wrong answer) hidden elsewhere, the question and its gold answers."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(min_length=1, pattern=r"^[a-z0-9][a-z0-9-]*$")
    kind: Kind
    needles: list[str] = Field(min_length=1, max_length=4)
    """Each is placed at a depth of its own; a multi-needle question needs them all."""
    question: str = Field(min_length=1)
    answers: list[Answer] = Field(min_length=1)
    """Every part must be in an answer for it to count (a part that is a list: any of it)."""
    distractors: list[str] = Field(default_factory=list, max_length=4)

    @field_validator("needles", "distractors")
    @classmethod
    def _sentences_have_text(cls, value: list[str]) -> list[str]:
        if any(not s.strip() for s in value):
            raise ValueError("an empty sentence")
        return [" ".join(s.split()) for s in value]

    @field_validator("answers")
    @classmethod
    def _answers_have_text(cls, value: list[Answer]) -> list[Answer]:
        for part in value:
            options = [part] if isinstance(part, str) else part
            if not options or any(not o.strip() for o in options):
                raise ValueError("an empty answer")
        return value

    def answered_by(self, text: str) -> bool:
        """Whether `text` holds every answer part (case-insensitive)."""
        lowered = " ".join(text.lower().split())
        return all(
            any(o.lower() in lowered for o in ([part] if isinstance(part, str) else part)) for part in self.answers
        )


def load_needle_file(path: Path) -> SuiteNeedle:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise SourceError(f"cannot read the needle file: {exc}", path=path) from exc
    except ValueError as exc:
        raise SourceError(f"the needle file is not valid JSON: {exc}", path=path) from exc
    try:
        return SuiteNeedle.model_validate(data)
    except ValidationError as exc:
        error = exc.errors()[0]
        field = ".".join(str(p) for p in error["loc"]) or "(the file)"
        raise SourceError(f"needle file {path.name}: field {field!r}: {error['msg']}", path=path) from exc


def load_suite(folder: str | Path) -> list[SuiteNeedle]:
    """Every `*.json` needle in `folder`, in file-name order; ids must be unique."""
    folder = Path(folder)
    files = sorted(folder.glob("*.json"))
    if not files:
        raise SourceError("no needle files (*.json) in the suite folder", path=folder)
    needles: list[SuiteNeedle] = []
    seen: dict[str, Path] = {}
    for path in files:
        needle = load_needle_file(path)
        if needle.id in seen:
            raise SourceError(f"needle file {path.name}: field 'id': {needle.id!r} is also used by {seen[needle.id].name}", path=path)
        seen[needle.id] = path
        needles.append(needle)
    return needles
