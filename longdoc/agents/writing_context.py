"""The text so far a writer call sees, bounded: every earlier section verbatim while it fits
the window, else a rolling summary of the earlier sections (their lead sentences, oldest
dropped first) plus the latest sections verbatim."""

from __future__ import annotations

from collections.abc import Sequence

from ..text import sentence_ends
from ..tokens import count_tokens
from .plan import Plan

SUMMARY_SHARE = 0.3
"""Share of the text-so-far room given to the rolling summary once text no longer fits."""

LEAD_WORDS = 40
"""Words of an earlier section kept in the rolling summary (its lead sentence or so)."""


def lead_of(text: str, words: int = LEAD_WORDS) -> str:
    ends = sentence_ends(text)
    lead = text[: ends[0]] if ends else text
    tokens = lead.split()
    if len(tokens) > words:
        lead = " ".join(tokens[:words]) + " ..."
    return lead.strip()


def section_heading(plan: Plan, index: int, budget: int | None = None) -> str:
    section = plan.sections[index]
    words = budget if budget is not None else section.words
    return f"Section {index + 1} of {len(plan.sections)} - {section.main_point} (about {words} words):"


def text_so_far(plan: Plan, written: Sequence[str], room_tokens: int) -> tuple[str, str]:
    """The text so far within `room_tokens`: (completion rendering with section headings,
    plain rendering). All of it while it fits; else a rolling summary plus last sections."""
    if not written:
        return "", ""
    blocks = [f"{section_heading(plan, i)}\n{text}" for i, text in enumerate(written)]
    full = "\n\n".join(blocks)
    if len(full.encode()) <= room_tokens or count_tokens(full) <= room_tokens:
        return full + "\n", "\n\n".join(written)
    verbatim_room = int(room_tokens * (1 - SUMMARY_SHARE))
    kept: list[int] = []
    used = 0
    for i in range(len(written) - 1, -1, -1):
        cost = count_tokens(blocks[i])
        if used + cost > verbatim_room:
            break
        kept.insert(0, i)
        used += cost
    tail_block = ""
    if not kept:
        last = written[-1]
        tail = tail_within(last, verbatim_room)
        tail_block = f"{section_heading(plan, len(written) - 1)}\n... {tail}"
        first_verbatim = len(written) - 1
        used = count_tokens(tail_block)
    else:
        first_verbatim = kept[0]
    summary_room = room_tokens - used
    lines: list[str] = []
    summary_used = 0
    for i in range(first_verbatim - 1, -1, -1):
        line = f"{i + 1}. {lead_of(written[i])}"
        cost = count_tokens(line) + 1
        if summary_used + cost > summary_room:
            lines.insert(0, f"(Sections 1 to {i + 1} follow the plan above.)")
            break
        lines.insert(0, line)
        summary_used += cost
    summary = "Summary of the earlier sections:\n" + "\n".join(lines) if lines else ""
    recent = tail_block or "\n\n".join(blocks[i] for i in kept)
    recent_plain = tail_block.split("\n", 1)[1] if tail_block else "\n\n".join(written[i] for i in kept)
    completion = "\n\n".join(p for p in (summary, recent) if p) + "\n"
    plain = "\n\n".join(p for p in (summary, "The most recent text:\n" + recent_plain) if p)
    return completion, plain


def tail_within(text: str, room_tokens: int) -> str:
    """The end of `text` within `room_tokens`, starting at a sentence start."""
    starts = [0, *sentence_ends(text)]
    for start in starts:
        tail = text[start:].strip()
        if count_tokens(tail) <= room_tokens:
            return tail
    words = text.split()
    return " ".join(words[-max(1, room_tokens // 2) :])
