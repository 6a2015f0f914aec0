"""The one text toolkit every agent, scorer and splitter uses: words, stopwords, content
words and sentences.

Sentences end after `.`, `!`, `?` or `…` (with any closing quotes or brackets) before
whitespace or the end of the text, after the CJK enders `。！？`, and at a blank line. A full
stop does not end a sentence after an abbreviation or an initial ("Mme. Vauquer",
"J. Smith", "e.g. this"). Whether a sentence ends never depends on the text after it, so
the sentences of a text's prefix stay its sentences as the text grows (the writer's
repetition filter relies on that).
"""

from __future__ import annotations

import re
from itertools import accumulate

WORD = re.compile(r"[^\W_]+", re.UNICODE)
"""A run of letters or digits (underscore splits words: `max_tokens` is two)."""

STOPWORDS = frozenset(
    [
        "a",
        "an",
        "the",
        "of",
        "to",
        "in",
        "on",
        "at",
        "for",
        "and",
        "or",
        "but",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "being",
        "it",
        "its",
        "this",
        "that",
        "these",
        "those",
        "what",
        "which",
        "who",
        "whom",
        "whose",
        "when",
        "where",
        "why",
        "how",
        "do",
        "does",
        "did",
        "with",
        "by",
        "from",
        "as",
        "about",
        "into",
        "than",
        "then",
        "so",
        "not",
        "no",
        "yes",
        "i",
        "you",
        "he",
        "she",
        "we",
        "they",
        "them",
        "his",
        "her",
        "our",
        "their",
        "my",
        "your",
        "me",
        "him",
        "us",
        "there",
        "here",
        "has",
        "have",
        "had",
        "will",
        "would",
        "can",
        "could",
        "should",
        "may",
        "might",
        "must",
        "shall",
        "if",
        "else",
        "also",
        "just",
        "only",
        "any",
        "all",
        "some",
        "such",
        "very",
        "one",
    ]
)
"""Function words that say nothing about what a sentence is about."""

ABBREVIATIONS = frozenset(
    [
        "mr",
        "mrs",
        "ms",
        "mme",
        "mlle",
        "mmes",
        "mm",
        "dr",
        "st",
        "sr",
        "jr",
        "prof",
        "rev",
        "gen",
        "col",
        "capt",
        "lt",
        "sgt",
        "no",
        "vol",
        "ch",
        "p",
        "pp",
        "fig",
        "eq",
        "vs",
        "etc",
        "eg",
        "ie",
        "cf",
    ]
)
"""Words whose full stop is not a sentence end (compared lower-cased, inner dots removed)."""

_SENTENCE_END = re.compile(
    r"[.!?\u2026]+[\"'\u201d\u2019)\]]*(?=\s|$)"  # Latin punctuation before a space or the end
    r"|[\u3002\uff01\uff1f]+[\u201d\u2019\u300d\u300f\uff09]*"  # CJK enders need no space
    r"|\n[ \t\r]*\n"  # a blank line: a paragraph or block ends
)
_LINE_END = re.compile(r"\n")


def words(text: str) -> list[str]:
    """The lower-cased words of `text`, in order."""
    if text.isascii():  # lower-casing ASCII keeps every word boundary: one pass
        return WORD.findall(text.lower())
    return [w.lower() for w in WORD.findall(text)]


def terms(text: str) -> list[str]:
    """Lower-cased words without stopwords, in order and with repeats (what BM25 matches)."""
    return [w for w in words(text) if w not in STOPWORDS]


def content_words(text: str) -> set[str]:
    """Lower-case words of `text` that carry meaning (stopwords and 1-letter words left out)."""
    return {w for w in words(text) if len(w) > 1 and w not in STOPWORDS}


def is_abbreviation(text: str, mark: int) -> bool:
    """Whether the full stop at `text[mark]` closes an abbreviation or an initial."""
    start = mark
    while start > 0 and (text[start - 1].isalpha() or text[start - 1] == "."):
        start -= 1
    word = text[start:mark].strip(".")
    if not word:
        return False
    if word.replace(".", "").lower() in ABBREVIATIONS:
        return True
    return len(word) == 1 and word.isupper() and _may_be_initial(text, start)


NAME_LEADERS = frozenset(["by", "and", "with", "to", "from", "of", "for", "dear", "said", "wrote"])
"""Lower-case words a person's initial often follows ("by J. Smith")."""


def _may_be_initial(text: str, start: int) -> bool:
    """Whether the lone capital at `text[start]` can be a name's initial, judged by the word
    before it (never by what follows, so a sentence end does not wait for the next words):
    it is after a capitalised word, an abbreviation or another initial ("Mr. J.", "George W."),
    at the text's start, or after a word that introduces names; after another lower-case word
    it is a label that ends the sentence ("do it in B.", "plan B.", "vitamin C.")."""
    before = re.search(r"(\S+)\s+$", text[max(0, start - 40) : start])
    if before is None:
        return True
    word = before.group(1).strip("\"'\u201c\u2018([,;:")
    return not word or not word[0].islower() or word.lower() in NAME_LEADERS


def _ends_here(text: str, match: re.Match[str]) -> bool:
    found = match.group()
    if found.startswith("\n") or found[0] in "\u3002\uff01\uff1f":
        return True
    last_mark = match.start() + len(found.rstrip("\"'\u201d\u2019)]")) - 1
    return not (text[last_mark] == "." and is_abbreviation(text, last_mark))


def sentence_ends(text: str, *, lines: bool = False) -> list[int]:
    """Offsets just after each sentence's closing punctuation (a blank line: after it),
    ascending, without the whitespace that follows; `lines=True` also ends one at every line
    break (for lists, headings, verse). An end before the first visible character closes
    nothing and is left out."""
    ends = {m.end() for m in _SENTENCE_END.finditer(text) if _ends_here(text, m)}
    if lines:
        ends.update(m.end() for m in _LINE_END.finditer(text))
    first_visible = len(text) - len(text.lstrip())
    return sorted(e for e in ends if e > first_visible)


def sentence_spans(text: str, *, lines: bool = False) -> list[tuple[int, int]]:
    """Character spans of the sentences of `text`, whitespace trimmed."""
    return _trimmed_spans(text, sentence_ends(text, lines=lines))


def sentences(text: str, *, lines: bool = True) -> list[str]:
    """The sentences of `text`, each with the whitespace after it, so that joining them
    gives `text` back; by default every line break also ends one."""
    found: list[str] = []
    start = 0
    ends = sentence_ends(text, lines=lines)
    for end in ends:
        stop = end
        while stop < len(text) and text[stop] in " \t\r":  # the spaces after it, not the next line
            stop += 1
        if stop > start:
            found.append(text[start:stop])
            start = stop
    if start < len(text):
        found.append(text[start:])
    return found


def last_sentence_end(text: str) -> int | None:
    """Offset just after the last whole sentence of `text`, or None when none ends."""
    ends = [e for e in sentence_ends(text) if not text[e - 1].isspace()]
    return ends[-1] if ends else None


def line_spans(text: str) -> list[tuple[int, int]]:
    """Character spans of the non-blank lines of `text` (for code), whitespace trimmed."""
    return _trimmed_spans(text, list(accumulate(len(line) for line in text.splitlines(keepends=True))))


def _trimmed_spans(text: str, cuts: list[int]) -> list[tuple[int, int]]:
    """The non-blank pieces of `text` between ascending `cuts`, each without the whitespace
    around it, as (start, end)."""
    spans: list[tuple[int, int]] = []
    start = 0
    for end in [*cuts, len(text)]:
        piece = text[start:end]
        stripped = piece.strip()
        if stripped:
            lead = len(piece) - len(piece.lstrip())
            spans.append((start + lead, start + lead + len(stripped)))
        start = max(start, end)
    return spans
