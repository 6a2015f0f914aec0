"""A writing plan: its sections, what each says and how many words it gets, with budgets
that sum to the target; and how budgets are shared out among sections."""

from __future__ import annotations

import math
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ..errors import InvalidValue

SECTION_WORDS = 350
"""Default section length: inside LongWriter's 200-1,000 range and short enough for a small
model to write in one call without looping."""

MIN_SECTION_WORDS = 100
MAX_SECTION_WORDS = 1000
"""LongWriter's bounds for one section; a budget the model proposes is clamped into them."""

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
            raise ValueError(f"section budgets sum to {total} words, target is {self.target_words}")
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


def allocate_budgets(weights: list[float], target: int) -> list[int]:
    """Integer budgets proportional to `weights`, summing to `target` exactly (largest
    remainder), each at least 1."""
    total = sum(weights)
    if not weights or total <= 0:
        raise InvalidValue("section weights must be positive", setting="weights", value=weights)
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
