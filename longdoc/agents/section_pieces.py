"""What one writer call adds to a section: the model's text without echoed headings or plan
lines, without a half sentence it stopped in, joined to the section the way it was written;
and the paragraph openers that cue a stalled base model."""

from __future__ import annotations

import re

from ..text import sentence_ends
from .length import count_words, ends_mid_sentence

CONTINUATION_OPENERS = (
    "Moreover,",
    "For example,",
    "In addition,",
    "At the same time,",
    "In practice,",
    "Beyond this,",
    "This also means that",
    "Another important point is that",
    "It is worth noting that",
    "As a result,",
    "On the other hand,",
    "In particular,",
)
"""Paragraph openers that cue a stalled base model to keep writing the same section; the
writer takes one the section has not used yet, so a long section does not repeat them."""

_PLAN_ECHO = re.compile(r"^[^\n]*\((?:about\s+|approximately\s+|~)?\d[\d,]*\s+words?\)[^\n]*(?:\n|$)", re.I | re.M)
_HEADING_ECHO = re.compile(r"^\s*(?:#+\s*)?section\s+\d+(?:\s+of\s+\d+)?\b[^\n]*\n", re.IGNORECASE)
_LATER_HEADING = re.compile(r"\n\s*(?:#+\s*)?(?:section\s+\d+\s+of\s+\d+|task:|plan of the piece)", re.I)


def strip_echoes(new_text: str) -> str:
    """A continuation without an echoed heading, without echoed plan lines ("2. Explain ...
    (about 300 words)") and without any next section it started."""
    new_text = _HEADING_ECHO.sub("", new_text, count=1)
    new_text = _PLAN_ECHO.sub("", new_text)
    later = _LATER_HEADING.search(new_text)
    if later:
        new_text = new_text[: later.start()]
    return new_text


HALF_SENTENCE_WORDS = 8
"""A last line of at least this many words without a closing mark is a cut-off sentence
(shorter ones are list items, titles, emoji lines, and are kept)."""


def ends_in_half_sentence(text: str) -> bool:
    """True when `text` stops inside a prose sentence: a call that ended on a stop sequence
    or the model's end of text mid-sentence. Its half sentence is dropped, not kept."""
    if not ends_mid_sentence(text):
        return False
    last_line = text.rstrip().rsplit("\n", 1)[-1]
    return count_words(last_line) >= HALF_SENTENCE_WORDS


def finished_piece(cue: str, new_text: str, finish_reason: str | None) -> str:
    """What one call adds to a section: the cue it continued plus its text, without a
    half sentence it stopped in. A cued paragraph the model did not finish a single
    sentence of is dropped whole ("Moreover, the third" is no progress); a sentence cut by the
    token limit is kept only when nothing before it ended, so the next call can finish it."""
    if not new_text.strip():
        return ""
    piece = cue + new_text
    if not ends_mid_sentence(piece):
        return piece
    if finish_reason != "length" and not cue and not ends_in_half_sentence(piece):
        return piece  # a list item or title line, not a cut-off sentence
    ends = [e for e in sentence_ends(piece) if e > len(cue)]
    if ends:
        return piece[: ends[-1]].rstrip()
    return "" if cue and finish_reason != "length" else piece


def next_opener(text: str, calls: int) -> str:
    """A paragraph opener the section `text` does not contain yet (cycling from the call
    count), so repeated reopenings do not repeat one connective."""
    count = len(CONTINUATION_OPENERS)
    for step in range(count):
        opener = CONTINUATION_OPENERS[(calls - 1 + step) % count]
        if opener not in text:
            return opener
    return CONTINUATION_OPENERS[(calls - 1) % count]


_BLOCK_START = re.compile(r"(?:#{1,6}\s|[-*+]\s|\d{1,3}[.)]\s|>\s|\|)")
"""A continuation that opens a Markdown block (heading, list item, quote, table row)."""


def join_continuation(text: str, new_text: str) -> str:
    """`text` continued by `new_text`: as written when either side brings its whitespace,
    else one space (the sentence or paragraph runs on), or a blank line before a Markdown
    block the continuation opens."""
    if not text:
        return new_text.lstrip()
    if not new_text or new_text[0].isspace() or text[-1].isspace():
        return text + new_text
    if _BLOCK_START.match(new_text):
        return text + "\n\n" + new_text
    return text + " " + new_text
