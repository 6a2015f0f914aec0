"""Reading a model's plan: numbered prose lines in LongWriter's format, or a JSON reply under
`plan_schema()`; points are cleaned, restarted or duplicated sections dropped, and budgets
the model gave kept only when sound."""

from __future__ import annotations

import re
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict

_HEAD = re.compile(
    r"^\s*[-*#>•]*\s*(?:\*\*)?\s*(?:paragraph|section|part|para\.?|step)?\s*(\d{1,4})\s*(?:\*\*)?"
    r"\s*(?:[-–—:.)]\s*)+",
    re.IGNORECASE,
)
_POINT_LABEL = re.compile(
    r"^\s*(?:\*\*)?\s*(?:main\s*point|point|topic)\s*(?:\*\*)?\s*[:：-]\s*", re.I
)
_BUDGET_LABELLED = re.compile(
    r"[-–—(,;|]?\s*(?:word\s*count|length)\s*[:：-]?\s*(?:about|around|approx\w*\.?|~)?\s*(\d[\d,]*)\b.*$",
    re.I,
)
_BUDGET_TRAILING = re.compile(
    r"[-–—(,;|]?\s*(?:about|around|approx\w*\.?|~)?\s*(\d[\d,]*)\s*words?\b\)?[.\s]*$", re.I
)
_LETTER_WORD = re.compile(r"[^\W\d_]{2,}", re.UNICODE)
_MAX_POINT_WORDS = 60


@dataclass(frozen=True)
class PlanLine:
    """One parsed plan line: the main point and the budget the model gave, if any."""

    main_point: str
    words: int | None


def _clean_point(text: str) -> str:
    point = _POINT_LABEL.sub("", text).strip().strip("*").strip()
    point = re.sub(r"\s*[-–—|,;:]+\s*$", "", point).strip()
    point = point.strip("\"'“”").strip()
    words = point.split()
    if len(words) > _MAX_POINT_WORDS:
        point = " ".join(words[:_MAX_POINT_WORDS])
    return point


def parse_plan_lines(text: str) -> list[PlanLine]:
    """The plan lines of a model answer, in order: numbered or `Main Point:` lines only.

    Prose around the lines is skipped; a list that restarts at 1 ends the plan (a second plan
    after the first); a main point repeated (ignoring case and punctuation) is kept once;
    a line whose main point has fewer than two words is dropped, unless it is a numbered
    short title of one real word ("1. Introduction (200 words)").
    """
    lines: list[PlanLine] = []
    seen: set[str] = set()
    for raw in text.splitlines():
        head = _HEAD.match(raw)
        if head:
            number = int(head.group(1))
            if number == 1 and lines:
                break
            body = raw[head.end() :]
        elif _POINT_LABEL.match(raw.lstrip(" -*•#>")):
            body = raw.lstrip(" -*•#>")
        else:
            continue
        budget: int | None = None
        labelled = _BUDGET_LABELLED.search(body)
        trailing = None if labelled else _BUDGET_TRAILING.search(body)
        found = labelled or trailing
        if found:
            value = int(found.group(1).replace(",", ""))
            budget = value if 10 <= value <= 20_000 else None
            body = body[: found.start()]
        point = _clean_point(body)
        # A numbered line may be a short title ("1. Introduction (200 words)"); an
        # unnumbered `Main Point:` line needs a phrase.
        words = _LETTER_WORD.findall(point)
        if len(words) < 2 and not (head and words and len(words[0]) >= 4):
            continue
        key = " ".join(w.lower() for w in re.findall(r"[^\W_]+", point))
        if key in seen:
            continue
        seen.add(key)
        lines.append(PlanLine(point, budget))
    return lines


class PlanEntry(BaseModel):
    """One paragraph of a plan as a model writes it in JSON."""

    model_config = ConfigDict(extra="forbid")

    main_point: str
    words: int


class PlanReply(BaseModel):
    """A plan as JSON (structured output): the schema a backend constrains decoding to."""

    model_config = ConfigDict(extra="forbid")

    paragraphs: list[PlanEntry]


def _inline_refs(node: object, defs: dict) -> object:
    if isinstance(node, dict):
        if "$ref" in node:
            return _inline_refs(defs[node["$ref"].rsplit("/", 1)[-1]], defs)
        return {k: _inline_refs(v, defs) for k, v in node.items() if k not in ("$defs", "title")}
    if isinstance(node, list):
        return [_inline_refs(v, defs) for v in node]
    return node


def plan_schema() -> dict:
    """`PlanReply`'s JSON schema with its references inlined (not every server resolves
    `$ref`), every object closed and every property required, as strict modes want."""
    schema = PlanReply.model_json_schema()
    return _inline_refs(schema, schema.get("$defs", {}))  # type: ignore[return-value]


def parse_plan_json(text: str) -> list[PlanLine]:
    """The plan lines of a JSON reply (the first `{...}` object in `text`), in order; []
    when there is none or it does not match `PlanReply`. Points are cleaned and checked as
    the prose parser does; a budget outside 10-20,000 words counts as missing."""
    start, end = text.find("{"), text.rfind("}")
    if start < 0 or end <= start:
        return []
    try:
        reply = PlanReply.model_validate_json(text[start : end + 1])
    except ValueError:
        return []
    lines: list[PlanLine] = []
    seen: set[str] = set()
    for entry in reply.paragraphs:
        point = _clean_point(entry.main_point)
        words = _LETTER_WORD.findall(point)
        key = " ".join(w.lower() for w in re.findall(r"[^\W_]+", point))
        if not words or (len(words) < 2 and len(words[0]) < 4) or key in seen:
            continue
        seen.add(key)
        lines.append(PlanLine(point, entry.words if 10 <= entry.words <= 20_000 else None))
    return lines
