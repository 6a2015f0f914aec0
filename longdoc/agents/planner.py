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
from dataclasses import dataclass, field

from ..errors import EmptyResponse, InvalidValue
from ..llm.base import Completion, Model, RunUsage, supports_schema
from ..llm.profiles import ModelProfile, profile_of
from ..prompts import load_prompt
from .cleaning import strip_reasoning
from .derived_plan import derive_points, topic_of
from .plan import (
    MAX_SECTION_WORDS,
    MIN_SECTION_WORDS,
    SECTION_WORDS,
    WEIGHT_RANGE,
    Plan,
    PlannedSection,
    PlanSource,
    allocate_budgets,
    balanced_budgets,
    section_count,
)
from .plan_replies import PlanLine, parse_plan_json, parse_plan_lines, plan_schema

PLAN_BATCH = 10
"""Plan lines asked of the model in one call; more sections are planned as parts first."""

PLAN_RETRIES = 2
"""Re-asks (for the missing lines) after the first planning call of one level."""


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
            raise InvalidValue(
                f"section_words must be positive, got {section_words}", setting="section_words", value=section_words
            )
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
            raise InvalidValue(
                f"target_words must be positive, got {target_words}", setting="target_words", value=target_words
            )
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
        if attempt > 0:  # sampled, seeded by attempt so that a rerun plans the same
            request = request.model_copy(update={"temperature": 0.7, "seed": attempt})
        return request
