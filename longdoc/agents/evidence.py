"""The verbatim evidence a worker keeps: which sentences of a chunk carry what the question
asks or what the note says, and whether a model-written note keeps to its material.

Selection is the pipeline's, not the model's (content words, numbers, and for code the
definitions and headings; for a question also the sentence encoder's similarity, so that a
paraphrased question still finds its sentence), so it holds on a 270M base model that cannot
be trusted to copy facts; every `Evidence` keeps its character offsets and lines so that
citations point at real spans.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Literal, TypeVar

from pydantic import BaseModel, ConfigDict

from ..documents import Chunk
from ..embedding import shared_encoder
from ..text import content_words, line_spans, sentence_spans

Mode = Literal["question", "book", "repository"]
"""What the workers are reading for: a question, a prose summary, or a repository summary."""

_NUMBER = re.compile(r"\d[\d,.:/-]*\d")
"""Numbers of two digits or more: list markers like "1)" are not facts to check."""
_DEFINITION = re.compile(
    r"^\s*(?:export\s+)?(?:pub(?:\([a-z]+\))?\s+)?(?:async\s+)?"
    r"(?:def|class|function|fn|func|struct|enum|trait|interface|type|module|impl|"
    r"public\s+(?:static\s+)?[\w<>\[\]]+\s+\w+\s*\(|const\s+\w+\s*=\s*(?:async\s*)?\()"
)
_LEADING_COMMENT = re.compile(r"^\s*(?:\"\"\"|'''|//+|#(?![!#])|/\*\*?|--)\s*[A-Za-z]")
_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+\S")

MAX_EVIDENCE = 3
"""Sentences a worker keeps from its chunk: enough for a fact and its context, few enough
that notes stay far below the cap when a chunk holds nothing relevant."""

SIMILARITY_FLOOR = 0.25
"""Cosine similarity (question to sentence, `longdoc.embedding`) below which a sentence is
taken as unrelated: the 99th percentile of essay sentences against the needle suite's
questions, which they do not answer, is 0.14-0.30 (median 0.22)."""

SIMILARITY_WEIGHT = 10.0
"""Points per unit of similarity above the floor: a sentence at 0.55 gains 3, what sharing
one or two of the question's words gives, so meaning and shared words weigh alike."""

SIMILAR_ENOUGH = 0.3
"""A chunk's most similar sentence is kept whatever its shared words when it reaches this."""

MAX_SENTENCE_CHARS = 320
"""Longer 'sentences' (unpunctuated lines, tables) are cut here so one cannot fill the notes."""


def numbers(text: str) -> set[str]:
    return set(_NUMBER.findall(text))


class Evidence(BaseModel):
    """A verbatim sentence of a chunk, with its place in the document."""

    model_config = ConfigDict(frozen=True)

    text: str
    start: int
    end: int
    lines: tuple[int, int]
    score: float = 0.0
    similarity: float = 0.0
    """Cosine similarity in meaning to the question (question mode; 0.0 otherwise): what
    lets the notes keep a paraphrased answer that shares no word with the question."""


def supports(sentence: str, note_words: set[str]) -> bool:
    """Whether a sentence holds what a note says: enough of its content words recur in the
    note (three, or half of a short sentence's)."""
    shared = len(content_words(sentence) & note_words)
    return shared >= 3 or (shared >= 2 and shared * 2 >= len(content_words(sentence)))


def _evidence(
    chunk: Chunk, start: int, end: int, score: float, line_of: Callable[[int], int], similarity: float = 0.0
) -> Evidence:
    end = min(end, start + MAX_SENTENCE_CHARS)
    text = " ".join(chunk.text[start:end].split())
    return Evidence(
        text=text,
        start=chunk.start + start,
        end=chunk.start + end,
        lines=(line_of(start), line_of(max(start, end - 1))),
        score=score,
        similarity=similarity,
    )


def _line_counter(chunk: Chunk) -> Callable[[int], int]:
    """Document line of an offset inside the chunk."""
    first = chunk.lines[0]
    return lambda offset: first + chunk.text.count("\n", 0, offset)


def _spans(text: str, *, code: bool) -> list[tuple[int, int]]:
    """Where evidence may start and end: lines in code, sentences in prose."""
    return line_spans(text) if code else sentence_spans(text)


def is_code(chunk: Chunk) -> bool:
    return bool(chunk.meta.get("language")) and chunk.meta.get("language") not in {
        "markdown",
        "text",
        "rst",
    }


def select_evidence(
    chunk: Chunk,
    *,
    mode: Mode,
    query: str = "",
    note: str = "",
    limit: int = MAX_EVIDENCE,
) -> list[Evidence]:
    """The sentences of `chunk` a worker keeps, verbatim, in text order.

    - question: sentences sharing content words with the question (double weight), the
      model's note, or its numbers, plus their similarity in meaning to the question above
      SIMILARITY_FLOOR; only sentences with some score are kept, and the chunk's most
      similar sentence always is once it reaches SIMILAR_ENOUGH (a paraphrased question
      shares no words with the sentence that answers it).
    - book: the most central sentences (their words recur in the chunk) that name people
      or places (capitalised words), the events and characters a summary needs.
    - repository: definitions (classes, functions, types), Markdown headings, and the
      first line of each docstring-like comment: the public surface of the code.
    """
    code = is_code(chunk)
    spans = _spans(chunk.text, code=code)
    if not spans:
        return []
    line_of = _line_counter(chunk)
    scored: list[tuple[float, int, int]] = []
    pinned: tuple[int, int] | None = None
    similarity_at: dict[int, float] = {}
    if mode == "question":
        wanted = content_words(query)
        noted = content_words(note)
        noted_numbers = numbers(note)
        sentences = [chunk.text[s:e] for s, e in spans]
        similar = shared_encoder().similarities(query, sentences) if query.strip() else [0.0] * len(spans)
        similarity_at = {start: float(sim) for (start, _), sim in zip(spans, similar, strict=True)}
        for (start, end), sentence, similarity in zip(spans, sentences, similar, strict=True):
            words = content_words(sentence)
            score = 2.0 * len(words & wanted) + len(words & noted)
            score += 2.0 * len(numbers(sentence) & noted_numbers)
            score /= math.sqrt(1 + len(words) / 12)
            score += SIMILARITY_WEIGHT * max(0.0, similarity - SIMILARITY_FLOOR)
            if score > 0:
                scored.append((score, start, end))
        if max(similar) >= SIMILAR_ENOUGH:  # kept even when shared words outrank it
            pinned = spans[max(range(len(spans)), key=similar.__getitem__)]
    elif mode == "repository":
        prose_seen = False
        for n, (start, end) in enumerate(spans):
            line = chunk.text[start:end]
            if chunk.start == 0 and n < 6 and _LEADING_COMMENT.match(line):
                scored.append((4.0, start, end))  # a module docstring says what the file is for
            elif _DEFINITION.match(line) and not re.search(r"\b(?:def|fn|func|function)\s+_", line):
                scored.append((3.0, start, end))
            elif _HEADING.match(line):
                scored.append((2.5, start, end))
            elif not code and not prose_seen and not line.lstrip().startswith(("<", "[!", "![", "[![", "```")):
                # a document's first sentence of prose (past its title and badges) says what it is about
                prose_seen = True
                scored.append((2.0, start, end))
        limit = max(limit, 6)
    else:
        freq = Counter(w for s, e in spans for w in content_words(chunk.text[s:e]))
        for start, end in spans:
            sentence = chunk.text[start:end]
            words = content_words(sentence)
            if len(words) < 3:
                continue
            names = {m.group() for m in re.finditer(r"(?<![.!?]\s)\b[A-Z][a-z]{2,}", sentence)}
            centrality = sum(freq[w] - 1 for w in words) / math.sqrt(len(words))
            scored.append((centrality + 1.5 * len(names), start, end))
    best = sorted(scored, key=lambda t: ((t[1], t[2]) != pinned, -t[0], t[1]))[:limit]
    return [
        _evidence(chunk, s, e, score, line_of, similarity_at.get(s, 0.0))
        for score, s, e in sorted(best, key=lambda t: t[1])
    ]


def evidence_for_note(chunk: Chunk, note: str, *, query: str = "", limit: int = MAX_EVIDENCE) -> list[Evidence]:
    """The sentences of `chunk` that a model's own notes drew on, verbatim, in text order:
    those sharing the most content words (and numbers) with the note, the query's words
    counting too. Used where the notes are the model's (the `instruct` profile), so that
    citations still point at real spans; nothing when the note shares nothing."""
    note_words = content_words(note)
    if not note_words:
        return []
    wanted = content_words(query)
    note_numbers = numbers(note)
    spans = _spans(chunk.text, code=is_code(chunk))
    line_of = _line_counter(chunk)
    scored = []
    for start, end in spans:
        sentence = chunk.text[start:end]
        words = content_words(sentence)
        if not supports(sentence, note_words) and not (numbers(sentence) & note_numbers):
            continue
        score = len(words & note_words) + 0.5 * len(words & wanted) + 2.0 * len(numbers(sentence) & note_numbers)
        scored.append((score / math.sqrt(1 + len(words) / 12), start, end))
    best = sorted(scored, key=lambda t: (-t[0], t[1]))[:limit]
    return [_evidence(chunk, s, e, score, line_of) for score, s, e in sorted(best, key=lambda t: t[1])]


def is_grounded(note: str, *, sources: list[str]) -> bool:
    """Whether a model-written note keeps to its material: every number it states occurs in
    the sources, and at least half its content words do. A base model that does not find
    the answer in a chunk tends to invent one; such notes are dropped, not passed on."""
    words = content_words(note)
    if not words:
        return False
    material = " ".join(sources)
    if numbers(note) - numbers(material):
        return False
    known = content_words(material)
    return len(words & known) * 2 >= len(words)


T = TypeVar("T")


def best_for_question(items: Sequence[T], of: Callable[[T], Evidence] = lambda item: item) -> list[T]:
    """Evidence for a question (`items`, or what `of` finds in each), best first: the highest
    score, then the sentence closest in meaning to the question when it is similar enough and
    not that one (a paraphrased answer scores low on shared words), then the rest by score."""
    by_score = sorted(items, key=lambda item: -of(item).score)
    if not by_score:
        return []
    closest = max(by_score, key=lambda item: of(item).similarity)
    if closest is by_score[0] or of(closest).similarity < SIMILAR_ENOUGH:
        return by_score
    return [by_score[0], closest, *(item for item in by_score[1:] if item is not closest)]


def entry_relevance(entry_note: str, evidence: list[Evidence], query: str) -> float:
    """How strongly an entry answers the query: its best evidence score, or its note's overlap."""
    best = max((ev.score for ev in evidence), default=0.0)
    note_overlap = len(content_words(entry_note) & content_words(query)) if query else 0
    return max(best, float(note_overlap))
