"""The AgentWrite planner: a writing instruction in, a parsed and checked `Plan` out.

The model is asked, as in LongWriter, for one line per section ("Paragraph N - Main Point: ...
- Word Count: N words"). Unlike the reference, its answer is parsed strictly: prose around the
lines is ignored, restarted or duplicated sections are dropped, missing or odd budgets are
replaced, and the budgets are rescaled so they sum to the target exactly. An incomplete plan is
re-asked for the sections still missing. Long pieces are planned hierarchically: first parts,
then the sections of each part, at most PLAN_BATCH lines per call, so 30,000 words work. When
the model gives nothing usable after its retries (a 270M base model may not), the planner
derives a sound generic plan from the instruction and says so in `Plan.source` and
`Plan.notes`, instead of failing or passing a broken plan on.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ..errors import EmptyResponse
from ..llm.base import Completion, Model, RunUsage, supports_schema
from ..llm.profiles import ModelProfile, profile_of
from ..prompts import load_prompt
from .cleaning import strip_reasoning

SECTION_WORDS = 350
"""Default section length: inside LongWriter's 200-1,000 range and short enough for a small
model to write in one call without looping."""

MIN_SECTION_WORDS = 100
MAX_SECTION_WORDS = 1000
"""LongWriter's bounds for one section; a budget the model proposes is clamped into them."""

PLAN_BATCH = 10
"""Plan lines asked of the model in one call; more sections are planned as parts first."""

PLAN_RETRIES = 2
"""Re-asks (for the missing lines) after the first planning call of one level."""

BUDGET_TOLERANCE = 0.05
"""The section budgets must sum to the target within this share."""

WEIGHT_RANGE = (0.5, 2.0)
"""A model-proposed budget may weigh a section between half and twice the average."""

PlanSource = Literal["model", "repaired", "derived"]


class PlannedSection(BaseModel):
    """One section of the plan: what it says and how many words it gets."""

    model_config = ConfigDict(frozen=True)

    main_point: str = Field(min_length=1)
    words: int = Field(ge=1)


class Plan(BaseModel):
    """A checked writing plan: non-empty, budgets summing to the target within 5%."""

    model_config = ConfigDict(frozen=True)

    instruction: str
    target_words: int = Field(ge=1)
    sections: tuple[PlannedSection, ...] = Field(min_length=1)
    source: PlanSource = "model"
    """`model`: the model's plan as parsed; `repaired`: parsed, with lines added or fixed;
    `derived`: the model's plan was unusable and the plan was built from the instruction."""
    notes: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _budgets_sum_to_target(self) -> Plan:
        total = sum(s.words for s in self.sections)
        if abs(total - self.target_words) > BUDGET_TOLERANCE * self.target_words + 1:
            raise ValueError(
                f"section budgets sum to {total} words, target is {self.target_words}"
            )
        return self

    @property
    def total_words(self) -> int:
        return sum(s.words for s in self.sections)

    def outline(self, marked: int | None = None, *, around: int | None = None) -> str:
        """The plan as numbered lines; `marked` (0-based) gets an arrow. With `around`, only
        the sections within that distance of `marked` are listed (for very long plans)."""
        lines = []
        for i, section in enumerate(self.sections):
            if around is not None and marked is not None and abs(i - marked) > around:
                if abs(i - marked) == around + 1:
                    lines.append("   ...")
                continue
            arrow = "-> " if i == marked else "   "
            lines.append(f"{arrow}{i + 1}. {section.main_point} ({section.words} words)")
        return "\n".join(lines)


def section_count(target_words: int, section_words: int = SECTION_WORDS) -> int:
    """How many sections a piece of `target_words` gets: one per ~section_words, no cap."""
    return max(1, round(target_words / section_words))


# ---- parsing ------------------------------------------------------------------------------

_HEAD = re.compile(
    r"^\s*[-*#>•]*\s*(?:\*\*)?\s*(?:paragraph|section|part|para\.?|step)?\s*(\d{1,4})\s*(?:\*\*)?"
    r"\s*(?:[-–—:.)]\s*)+",
    re.IGNORECASE,
)
_POINT_LABEL = re.compile(r"^\s*(?:\*\*)?\s*(?:main\s*point|point|topic)\s*(?:\*\*)?\s*[:：-]\s*", re.I)
_BUDGET_LABELLED = re.compile(r"[-–—(,;|]?\s*(?:word\s*count|length)\s*[:：-]?\s*(?:about|around|approx\w*\.?|~)?\s*(\d[\d,]*)\b.*$", re.I)
_BUDGET_TRAILING = re.compile(r"[-–—(,;|]?\s*(?:about|around|approx\w*\.?|~)?\s*(\d[\d,]*)\s*words?\b\)?[.\s]*$", re.I)
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


def allocate_budgets(weights: list[float], target: int) -> list[int]:
    """Integer budgets proportional to `weights`, summing to `target` exactly (largest
    remainder), each at least 1."""
    total = sum(weights)
    if not weights or total <= 0:
        raise ValueError("weights must be positive")
    raw = [w * target / total for w in weights]
    budgets = [max(1, math.floor(r)) for r in raw]
    shortfall = target - sum(budgets)
    order = sorted(range(len(raw)), key=lambda i: raw[i] - math.floor(raw[i]), reverse=True)
    i = 0
    while shortfall > 0:
        budgets[order[i % len(order)]] += 1
        shortfall -= 1
        i += 1
    while shortfall < 0:
        j = max(range(len(budgets)), key=lambda k: budgets[k])
        if budgets[j] <= 1:
            break
        budgets[j] -= 1
        shortfall += 1
    return budgets


def balanced_budgets(proposed: list[int | None], target: int) -> list[int]:
    """Budgets for sections whose model-proposed budgets may be missing or odd: the proposals
    are relative weights, clamped to WEIGHT_RANGE of their mean; missing ones get the mean."""
    given = [p for p in proposed if p]
    mean = sum(given) / len(given) if given else 1.0
    low, high = WEIGHT_RANGE
    weights = [min(max((p or mean) / mean, low), high) for p in proposed]
    return allocate_budgets(weights, target)


# ---- structured plans ---------------------------------------------------------------------


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


# ---- deriving a plan without the model ----------------------------------------------------

_LEADING_REQUEST = re.compile(
    r"^\s*(?:please\s*,?\s*|can you\s+|could you\s+|i need you to\s+|help me\s+)*"
    r"(?:write|compose|draft|create|produce|generate|give|prepare|introduce|describe|explain|tell)\b\s*",
    re.IGNORECASE,
)
_FORM_PHRASE = re.compile(
    r"^(?:me\s+)?(?:an?\s+|the\s+)?(?:[\w-]*\s*){0,6}?"
    r"(?:article|essay|story|post|report|letter|email|speech|guide|review|description|paper|novel|"
    r"piece|introduction|overview|summary|outline|blog|proposal|script|poem|chapter|text)s?\s+"
    r"(?:about|on|of|for|regarding|describing|explaining|introducing|that)\s+",
    re.IGNORECASE,
)
_LENGTH_PHRASE = re.compile(
    r"[,(]?\s*(?:in\s+)?(?:about|around|approximately|at least|no less than|no more than)?\s*"
    r"\d[\d,]*\s*-?\s*(?:words?|characters?|字)\b\)?",
    re.IGNORECASE,
)

_DERIVED_POINTS = (
    "Introduce {topic} and set out what this piece will cover",
    "Give the background and context needed to understand {topic}",
    "Explain the central ideas of {topic} in detail",
    "Work through concrete examples that show {topic} in practice",
    "Discuss the difficulties, limits and opposing views around {topic}",
    "Describe what {topic} means for the people it affects",
    "Consider how {topic} may develop in the future",
)
_DERIVED_CONCLUSION = "Conclude by drawing together the main points about {topic}"


def topic_of(instruction: str) -> str:
    """The subject of a writing instruction, best effort: the request and length phrases cut."""
    first = re.split(r"(?<=[.!?])\s+|\n", instruction.strip(), maxsplit=1)[0]
    topic = _LENGTH_PHRASE.sub("", first)
    topic = _LEADING_REQUEST.sub("", topic)
    topic = _FORM_PHRASE.sub("", topic)
    topic = re.sub(r"^(?:about|on|regarding)\s+", "", topic, flags=re.IGNORECASE)
    topic = topic.strip(" .,:;!?\"'")
    words = topic.split()
    if not words:
        words = instruction.split()
    if len(words) > 20:
        words = words[:20]
    return " ".join(words) or "the subject"


def derive_points(topic: str, count: int, *, part: str | None = None) -> list[str]:
    """`count` generic but ordered main points for `topic` (or for one part of it)."""
    if part is not None:
        if count == 1:
            return [part]
        points = [f"Open this part: {part}"]
        points += [f"Develop this part further ({k} of {count - 2}): {part}" for k in range(1, count - 1)]
        points.append(f"Close this part and lead on from it: {part}")
        return points
    if count == 1:
        return [f"Cover the whole task on {topic}"]
    middle_templates = _DERIVED_POINTS[1:]
    points = [_DERIVED_POINTS[0].format(topic=topic)]
    for k in range(count - 2):
        template = middle_templates[k % len(middle_templates)]
        rounds = k // len(middle_templates)
        point = template.format(topic=topic)
        points.append(point if rounds == 0 else f"{point} (continued, part {rounds + 1})")
    points.append(_DERIVED_CONCLUSION.format(topic=topic))
    return points


# ---- the agent ----------------------------------------------------------------------------


@dataclass
class _LevelOutcome:
    points: list[str]
    proposed: list[int | None]
    source: PlanSource
    notes: list[str] = field(default_factory=list)


class PlannerAgent:
    """Asks the model for a plan, level by level, and never returns an unchecked one."""

    def __init__(
        self,
        model: Model,
        *,
        section_words: int = SECTION_WORDS,
        batch: int = PLAN_BATCH,
        retries: int = PLAN_RETRIES,
        structured: bool | None = None,
    ) -> None:
        if section_words < 1:
            raise ValueError("section_words must be positive")
        self.model = model
        self.section_words = section_words
        self.batch = max(2, batch)
        self.retries = retries
        self.profile: ModelProfile = profile_of(model)
        self.structured = (
            self.profile.structured_plans if structured is None else structured
        ) and supports_schema(model)
        """Plans are asked for as JSON under `plan_schema()` (None: as the profile says,
        where the backend constrains decoding); the prose parser reads what is not JSON."""
        self.template = load_prompt("write_plan_json" if self.structured else "write_plan")
        self.usage = RunUsage()

    async def aplan(self, instruction: str, target_words: int) -> Plan:
        """A plan for `instruction` with budgets summing to `target_words`."""
        if target_words < 1:
            raise ValueError(f"target_words must be positive, got {target_words}")
        count = section_count(target_words, self.section_words)
        sections, sources, notes = await self._plan_level(instruction, target_words, count, None)
        if all(s == "derived" for s in sources):
            source: PlanSource = "derived"
        elif all(s == "model" for s in sources):
            source = "model"
        else:
            source = "repaired"
        return Plan(
            instruction=instruction,
            target_words=target_words,
            sections=tuple(sections),
            source=source,
            notes=tuple(notes),
        )

    async def _plan_level(
        self, instruction: str, words: int, count: int, part: str | None
    ) -> tuple[list[PlannedSection], list[PlanSource], list[str]]:
        if count <= self.batch:
            outcome = await self._ask_level(instruction, words, count, part)
            budgets = balanced_budgets(outcome.proposed, words)
            sections = [PlannedSection(main_point=p, words=b) for p, b in zip(outcome.points, budgets, strict=True)]
            return sections, [outcome.source], outcome.notes
        parts = math.ceil(count / self.batch)
        outcome = await self._ask_level(instruction, words, parts, part)
        part_budgets = balanced_budgets(outcome.proposed, words)
        counts = allocate_budgets([float(b) for b in part_budgets], count)
        sections: list[PlannedSection] = []
        sources: list[PlanSource] = [outcome.source]
        notes = [f"planned hierarchically: {parts} parts, then their sections", *outcome.notes]
        for point, budget, sub_count in zip(outcome.points, part_budgets, counts, strict=True):
            sub, sub_sources, sub_notes = await self._plan_level(instruction, budget, sub_count, point)
            sections.extend(sub)
            sources.extend(sub_sources)
            notes.extend(sub_notes)
        return sections, sources, notes

    async def _ask_level(self, instruction: str, words: int, count: int, part: str | None) -> _LevelOutcome:
        scope = f"Part to plan: {part}\n" if part else ""
        where = f" for part '{part}'" if part else ""
        accepted: list[PlanLine] = []
        seen: set[str] = set()
        for attempt in range(1 + self.retries):
            request = self._request(instruction, words, count, scope, accepted, attempt)
            try:
                completion: Completion = await self.model.acomplete(request)
            except EmptyResponse:
                continue  # an attempt that gave nothing; re-ask
            self.usage.add(completion)
            cue = f"Paragraph {len(accepted) + 1} - Main Point:"
            primed = self.profile.completion_style and not self.structured
            text = strip_reasoning(cue + completion.text if primed else completion.text)
            parsed = parse_plan_json(text) if self.structured else []
            for line in parsed or parse_plan_lines(text):
                key = line.main_point.lower()
                if key in seen:
                    continue
                seen.add(key)
                accepted.append(line)
            if len(accepted) >= count:
                break
        accepted = accepted[:count]
        repaired_budgets = any(line.words is None for line in accepted)
        if len(accepted) == count:
            source: PlanSource = "repaired" if repaired_budgets else "model"
            notes = [f"missing word counts{where} filled in"] if repaired_budgets else []
            return _LevelOutcome([a.main_point for a in accepted], [a.words for a in accepted], source, notes)
        if len(accepted) * 2 >= count and accepted:
            fill = derive_points(topic_of(instruction), count, part=part)[len(accepted) :]
            note = f"model planned {len(accepted)} of {count} sections{where}; the rest derived from the instruction"
            return _LevelOutcome(
                [a.main_point for a in accepted] + fill,
                [a.words for a in accepted] + [None] * len(fill),
                "repaired",
                [note],
            )
        note = (
            f"model plan unusable{where} after {1 + self.retries} attempts "
            f"({len(accepted)} of {count} sections parsed); plan derived from the instruction"
        )
        points = derive_points(topic_of(instruction), count, part=part)
        return _LevelOutcome(points, [None] * count, "derived", [note])

    def _request(
        self,
        instruction: str,
        words: int,
        count: int,
        scope: str,
        accepted: list[PlanLine],
        attempt: int,
    ):
        per = words / count
        planned = "".join(
            f"Paragraph {i + 1} - Main Point: {line.main_point} - Word Count: "
            f"{line.words or round(per)} words\n"
            for i, line in enumerate(accepted)
        )
        planned_note = (
            f"Paragraphs 1 to {len(accepted)} are planned already:\n{planned}"
            f"Give the lines for paragraphs {len(accepted) + 1} to {count} only."
            if accepted
            else ""
        )
        missing = count - len(accepted)
        planned_json = (
            ", paragraphs 1 to {} planned already: {}".format(
                len(accepted),
                "; ".join(f"{i + 1}. {line.main_point}" for i, line in enumerate(accepted)),
            )
            if accepted
            else ""
        )
        request = self.template.request(
            max_tokens=(64 if self.structured else 48) * missing + 32 + self.profile.reasoning_tokens,
            missing=missing,
            planned_json=planned_json,
            instruction=instruction.strip(),
            scope=scope,
            count=count,
            words=words,
            min_words=max(1, min(MIN_SECTION_WORDS, round(per))),
            max_words=max(MAX_SECTION_WORDS, round(per * WEIGHT_RANGE[1])),
            planned=planned,
            planned_note=planned_note,
            first=len(accepted) + 1,
        )
        if self.structured:
            request = request.model_copy(update={"stop": (), "json_schema": plan_schema()})
        elif not self.profile.base_stops:
            request = request.model_copy(update={"stop": ()})
        elif count - len(accepted) > 1:
            stops = (*(s for s in request.stop if s != "\n\n"), "\n\n\n")
            request = request.model_copy(update={"stop": stops})
        if attempt > 0:
            request = request.model_copy(update={"temperature": 0.7})
        return request
