"""Where a Chain-of-Agents answer came from: the citations and the best evidence quotes of
the final notes."""

from __future__ import annotations

from collections.abc import Sequence

from ...agents.evidence import best_for_question
from ...agents.notes import Notes
from ...results import Citation, EvidenceQuote
from .models import ChainRun


def citations_of(run: ChainRun, finals: Sequence[Notes]) -> list[Citation]:
    """Where the final notes' evidence came from: each kept sentence's span (or, for a note
    without evidence, its chunk), with lines and section; in reading order, no duplicates."""
    by_index = {(c.source, c.index): c for c in run.chunks}
    seen: set[tuple[str, int, int]] = set()
    citations: list[Citation] = []
    for notes in finals:
        for entry in notes.entries:
            spans = [(ev.start, ev.end, ev.lines) for ev in entry.evidence]
            chunk = by_index.get((entry.source, entry.chunk))
            if not spans and chunk is not None:
                spans = [(chunk.start, chunk.end, chunk.lines)]
            for start, end, lines in spans:
                key = (entry.source, start, end)
                if key not in seen:
                    seen.add(key)
                    citations.append(Citation(
                        source=entry.source, start=start, end=end, lines=tuple(lines), section=entry.section,
                    ))
    return citations


def evidence_of(run: ChainRun, finals: Sequence[Notes], limit: int = 2) -> list[EvidenceQuote]:
    """A question's best evidence in the final notes, verbatim with its citation, best
    first: the sentence the workers scored highest for the question, the one closest to it
    in meaning, then the next by score (see `best_for_question`)."""
    if run.task.mode != "question":
        return []
    found = [(ev, entry) for notes in finals for entry in notes.entries for ev in entry.evidence]
    quotes = [
        EvidenceQuote(
            text=ev.text, source=entry.source, start=ev.start, end=ev.end, lines=tuple(ev.lines),
            section=entry.section,
        )
        for ev, entry in best_for_question(found, of=lambda pair: pair[0])
    ]
    seen: set[tuple[str, int]] = set()
    best = []
    for quote in quotes:
        if (quote.source, quote.start) not in seen:
            seen.add((quote.source, quote.start))
            best.append(quote)
    return best[:limit]
