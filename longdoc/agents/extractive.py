"""Extractive answers built from the notes alone, for when a base model's own is unusable.

A 270M base model often writes nothing, or something its notes do not support; on the
`base` profile the manager then answers from the notes' verbatim evidence instead (and the
result says so: `fallback`). These functions make that replacement read like an answer:

- a question: the best evidence sentences, at most two;
- a book: its events in order, one sentence per part (the model's grounded note where it
  wrote one, else the part's most central sentence), spread evenly over the whole text;
- a repository: what its README says it is, its main modules with their docstrings, then
  the names of its public definitions: never ignore files or lock files run together.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import PurePosixPath

from .evidence import SIMILAR_ENOUGH, Evidence, best_for_question
from .notes import NoteEntry

README = re.compile(r"^readme(?:\.[a-z]+)?$", re.IGNORECASE)
DOC_SUFFIXES = frozenset({".md", ".rst", ".txt", ".adoc", ""})
NOT_MODULES = re.compile(
    r"(?:^|/)(?:tests?|testing|docs?|examples?|benchmarks?|scripts?)/|(?:^|/)(?:test_[^/]*|[^/]*_test\.\w+|conftest\.py|"
    r"setup\.py|__main__\.py)$"
)
"""Files that are not the modules a reader of an overview wants first."""

DOCSTRING_SCORE = 4.0
DEFINITION_SCORE = 3.0
"""The scores `evidence.select_evidence` gives a module's docstring line and a definition."""

_DEFINED_NAME = re.compile(
    r"\b(?:def|class|function|fn|func|struct|enum|trait|interface|type|module)\s+([A-Za-z_][\w]*)"
)
_COMMENT_MARK = re.compile(r"^\s*(?:\"\"\"|'''|//+|#+!?|/\*\*?|--|\*)\s*")
_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+")


def _sentence(text: str) -> str:
    text = " ".join(text.split()).strip()
    text = text.rstrip(" \"'*/")
    return text if not text or text.endswith((".", "!", "?", ":")) else text + "."


def _is_prose(ev: Evidence) -> bool:
    return not _HEADING.match(ev.text) and len(ev.text.split()) >= 5


def question_answer(entries: Sequence[NoteEntry]) -> str:
    """The best evidence: the top sentence, and the one closest in meaning to the question
    or else another within a quarter of the top score (see `best_for_question`)."""
    best = best_for_question([ev for e in entries for ev in e.evidence])
    if best:
        # Within a quarter of the best score; written so that the best piece is always
        # kept, whatever the sign of the scores.
        floor = best[0].score - 0.25 * abs(best[0].score)
        second = [ev for ev in best[1:2] if ev.score >= floor or ev.similarity >= SIMILAR_ENOUGH]
        return " ".join(ev.text for ev in [best[0], *second])
    notes = [e.note for e in sorted(entries, key=lambda e: -e.relevance) if e.note]
    return notes[0] if notes else "The document does not say."


def book_summary(entries: Sequence[NoteEntry], words: int) -> str:
    """One sentence per part in reading order, parts spread evenly when not all fit."""
    pieces = []
    for entry in entries:
        if entry.note:
            pieces.append(_sentence(entry.note))
            continue
        # Whole narrative sentences first: not cut short by the notes cap, not a line of
        # dialogue when the part has anything else, long enough to say what happens.
        whole = [ev for ev in entry.evidence if "…" not in ev.text and len(ev.text.split()) >= 6]
        told = [ev for ev in whole if not ev.text.lstrip().startswith(('"', "“", "'", "‘"))]
        choice = told or whole
        if choice:
            pieces.append(_sentence(max(choice, key=lambda ev: ev.score).text))
    pieces = [p for p in pieces if p]
    total = sum(len(p.split()) for p in pieces)
    if total > words and len(pieces) > 1:
        keep = max(1, round(len(pieces) * words / total))
        step = (len(pieces) - 1) / max(1, keep - 1)
        pieces = [pieces[round(i * step)] for i in range(keep)] if keep > 1 else pieces[:1]
    return " ".join(pieces)


def _docstring(entry: NoteEntry) -> str:
    lines = [ev for ev in entry.evidence if ev.score >= DOCSTRING_SCORE]
    if not lines:
        return ""
    text = _COMMENT_MARK.sub("", lines[0].text).strip()
    return _sentence(text) if len(text.split()) >= 3 else ""


def repository_summary(entries: Sequence[NoteEntry], words: int) -> str:
    """What the README says, the main modules with their docstrings, the public names."""
    by_source: dict[str, list[NoteEntry]] = {}
    for entry in entries:
        by_source.setdefault(entry.source, []).append(entry)
    blocks: list[str] = []
    used = 0
    readme = [s for s in by_source if README.match(PurePosixPath(s).name)]
    for source in sorted(readme, key=lambda s: s.count("/"))[:1]:
        prose = [ev for e in by_source[source] for ev in e.evidence if _is_prose(ev)]
        notes = [e.note for e in by_source[source] if e.note]
        about = _sentence(notes[0]) if notes else (_sentence(prose[0].text) if prose else "")
        if about:
            blocks.append(about)
            used += len(about.split())
    modules = []
    names: list[str] = []
    for source, mine in by_source.items():
        suffix = PurePosixPath(source).suffix.lower()
        if source in readme or suffix in DOC_SUFFIXES:
            continue
        for entry in mine:
            for ev in entry.evidence:
                if ev.score == DEFINITION_SCORE:
                    names.extend(m.group(1) for m in _DEFINED_NAME.finditer(ev.text))
        if NOT_MODULES.search(source):
            continue
        described = next((d for d in (_docstring(e) for e in mine) if d), "")
        described = described or next((_sentence(e.note) for e in mine if e.note), "")
        if described:
            modules.append(f"- {source}: {described}")
    if modules:
        shown = []
        for line in modules:
            if used + len(line.split()) > words and shown:
                break
            shown.append(line)
            used += len(line.split())
        more = f"\n- and {len(modules) - len(shown)} more modules" if len(modules) > len(shown) else ""
        blocks.append("Main modules:\n" + "\n".join(shown) + more)
    public = list(dict.fromkeys(n for n in names if not n.startswith("_")))
    if public and used < words:
        room = max(5, (words - used) // 2)
        blocks.append("Public definitions: " + ", ".join(public[:room]) + ("..." if len(public) > room else "."))
    if not blocks:
        return book_summary(entries, words)
    return "\n\n".join(blocks)
