"""Segments for relevance scoring: token windows that end at sentence boundaries and
overlap by a sentence or two, so a fact cut at one boundary is whole in the next. Pure
text: scoring them against a question is `longdoc.retrieval`'s job."""

from __future__ import annotations

import itertools
import re

from ..documents import Chunk, Document, LineIndex
from ..errors import ConfigError
from ..tokens import DEFAULT_ENCODING, get_encoding

DEFAULT_SEGMENT_TOKENS = 384
"""Small enough that one segment holds few topics (a sharper certainty signal), large enough
that a 128k-token input stays a few hundred model calls."""

DEFAULT_OVERLAP_TOKENS = 48
"""About one or two sentences (1/8 of a segment): a fact cut at a segment boundary is still
whole in one of the two; with 32, long sentences made most boundaries overlap-free."""

DEFAULT_QUESTION_TOKENS = 64
"""With no explicit question, the input's last tokens play its part (as in XL3M)."""


_SENTENCE_END = re.compile(r"(?:[.!?]+[\"')\]]*\s+|\n[ \t]*\n\s*)")
"""After a sentence's closing punctuation, or a blank line (a paragraph or block ends)."""
_SPACE = re.compile(r"\s+")


def _pieces(text: str, start: int, end: int, limit: int, count) -> list[tuple[int, int, int]]:
    """Sentences of text[start:end] as (start, end, tokens); one longer than `limit` tokens
    is cut at spaces (or, as a last resort, anywhere) into pieces that fit."""
    bounds = [start]
    for match in _SENTENCE_END.finditer(text, start, end):
        if match.end() < end:
            bounds.append(match.end())
    bounds.append(end)
    pieces: list[tuple[int, int, int]] = []
    for s, e in itertools.pairwise(bounds):
        if e <= s:
            continue
        n = count(text[s:e])
        if n <= limit:
            pieces.append((s, e, n))
        else:
            pieces.extend(_cut_long(text, s, e, limit, count))
    return pieces


def _cut_long(text: str, start: int, end: int, limit: int, count) -> list[tuple[int, int, int]]:
    """Cut text[start:end] at spaces into pieces of at most `limit` tokens; a run with no
    space that is still too long is cut by characters. Each piece's last space is found by
    galloping then bisecting over the spaces, so a long table row with no sentence end costs
    O(log n) counts per piece, not one per word."""
    cuts = [m.end() for m in _SPACE.finditer(text, start, end) if m.end() < end] + [end]
    out: list[tuple[int, int, int]] = []
    s, k = start, 0

    def fits(i: int) -> bool:
        return count(text[s : cuts[i]]) <= limit

    while s < end:
        if not fits(k):  # no space within the limit: cut by characters
            e = s + 1
            while e < end and count(text[s : e + 1]) <= limit:
                e += 1
            best = e
            while k < len(cuts) and cuts[k] <= best:
                k += 1
        else:
            fitting, step, failing = k, 1, len(cuts)
            while fitting + step < len(cuts):
                if not fits(fitting + step):
                    failing = fitting + step
                    break
                fitting += step
                step *= 2
            while failing - fitting > 1:
                middle = (fitting + failing) // 2
                if fits(middle):
                    fitting = middle
                else:
                    failing = middle
            best = cuts[fitting]
            k = fitting + 1
        out.append((s, best, count(text[s:best])))
        s = best
    return out


def split_segments(
    document: Document,
    *,
    tokens: int = DEFAULT_SEGMENT_TOKENS,
    overlap: int | None = None,
    end: int | None = None,
    encoding: str = DEFAULT_ENCODING,
) -> list[Chunk]:
    """Token windows of about `tokens` tokens ending at sentence boundaries, each sharing its
    last sentences (up to `overlap` tokens) with the next; `document.text[c.start:c.end] ==
    c.text` for each. Only the body is segmented (`Document.body`: no Gutenberg licence).
    `end` stops the segments early (the question's own tokens). The default
    overlap is DEFAULT_OVERLAP_TOKENS, or an eighth of a smaller segment."""
    if tokens < 8:
        raise ConfigError(f"segment size must be at least 8 tokens, got {tokens}")
    if overlap is None:
        overlap = min(DEFAULT_OVERLAP_TOKENS, tokens // 8)
    if not 0 <= overlap < tokens // 2:
        raise ConfigError(f"overlap must be between 0 and half the segment size, got {overlap}")
    text = document.text
    first, last = document.body  # a Gutenberg header and licence are not segments
    stop = last if end is None else min(end, last)
    encode = get_encoding(encoding).encode_ordinary

    def count(s: str) -> int:
        return len(encode(s))

    pieces = _pieces(text, first, stop, tokens, count)
    lines = LineIndex(text)
    meta = {"path": document.path} if document.path else {}
    segments: list[Chunk] = []
    i = 0
    while i < len(pieces):
        j, total = i, 0
        while j < len(pieces) and total + pieces[j][2] <= tokens:
            total += pieces[j][2]
            j += 1
        s, e = pieces[i][0], pieces[j - 1][1]
        while e > s and text[e - 1].isspace():
            e -= 1
        if e > s:
            segments.append(
                Chunk(
                    doc_id=document.id,
                    index=len(segments),
                    start=s,
                    end=e,
                    text=text[s:e],
                    tokens=count(text[s:e]),
                    lines=lines.span(s, e),
                    meta=dict(meta),
                )
            )
        if j >= len(pieces):
            break
        back, carried = j, 0
        while back - 1 > i and carried + pieces[back - 1][2] <= overlap:
            back -= 1
            carried += pieces[back][2]
        i = back
    return segments


def trailing_question(
    text: str, tokens: int = DEFAULT_QUESTION_TOKENS, encoding: str = DEFAULT_ENCODING
) -> tuple[int, str]:
    """The input's last `tokens` tokens as the question, and where they start in `text`."""
    enc = get_encoding(encoding)
    ids = enc.encode_ordinary(text)
    if len(ids) <= tokens:
        return 0, text
    prefix = enc.decode_bytes(ids[: len(ids) - tokens])
    start = len(text.encode("utf-8")[: len(prefix)].decode("utf-8", errors="ignore"))
    return start, text[start:]
