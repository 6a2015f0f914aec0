"""Hard-wrapped prose, reflowed before a model reads it.

Project Gutenberg books, RFCs and mail wrap paragraphs at ~70 characters. Each of those
line breaks costs a token of its own, and the word after it loses its leading space and
often splits in two: on the opening of *Father Goriot* the line breaks are 6% of the
tokens. A worker reads each paragraph as one line instead; offsets, evidence and
citations keep referring to the original text, so nothing downstream changes.

Only paragraphs that look wrapped are joined: several lines of similar length, none of
them a list item, heading, quote, table row, indented block or code fence. Verse and
other short-line layouts keep their breaks.
"""

from __future__ import annotations

import re

_PARAGRAPH_BREAK = re.compile(r"(\n[ \t]*\n+)")
_STRUCTURAL_LINE = re.compile(
    r"^(?:[ \t]{2,}|\t|\s*(?:[-*+•]\s|\d{1,3}[.)]\s|#|>|\||```|~~~))"
)

MIN_WRAP_WIDTH = 50
"""The longest line of a wrapped paragraph is at least this long (verse rarely is)."""

MAX_WRAP_WIDTH = 100
"""Beyond this, lines are paragraphs already (or a layout that must not be touched)."""

MIN_LINE_SHARE = 0.5
"""Every line but the last reaches this share of the longest one in a wrapped paragraph."""


def is_wrapped(lines: list[str]) -> bool:
    """Whether a paragraph's `lines` are one flow of text broken at a fixed width."""
    if len(lines) < 2 or any(_STRUCTURAL_LINE.match(line) for line in lines):
        return False
    widths = [len(line.rstrip()) for line in lines]
    widest = max(widths)
    if not MIN_WRAP_WIDTH <= widest <= MAX_WRAP_WIDTH:
        return False
    return all(w >= widest * MIN_LINE_SHARE for w in widths[:-1])


def _join(lines: list[str]) -> str:
    text = lines[0].rstrip()
    for line in lines[1:]:
        piece = line.strip()
        # A line that ends in a hyphen was broken after it ("lodging-" / "house").
        text += piece if text.endswith("-") else f" {piece}"
    return text


def reflow_prose(text: str) -> str:
    """`text` with every hard-wrapped paragraph on one line; everything else unchanged."""
    if "\n" not in text:
        return text
    parts = _PARAGRAPH_BREAK.split(text)
    for i in range(0, len(parts), 2):  # even items are paragraphs, odd ones the breaks
        lines = parts[i].split("\n")
        if is_wrapped(lines):
            parts[i] = _join(lines)
    return "".join(parts)
