"""The token splitter: chunks of at most `limit` tokens, cut at the best nearby boundary.

A document is tokenized once. For each chunk the splitter jumps `limit` tokens ahead
(the furthest end that fits), then looks back for the best boundary within reach, in
order of preference: a section start (chapter or heading), a blank line, the end of a
sentence, the end of a line, a word, and only then a token. For code and data a line
end ranks above a sentence end; for prose a line break inside a sentence (hard-wrapped
books) ranks below one. A boundary must also leave the chunk reasonably full
(`MIN_FILL`), so that chunks fill the limit well and no tiny fragments appear.

Token counts come from the one encode: the tokens between two cut points are counted
by binary search over token offsets. That count is exact when both cuts fall where
tiktoken's pre-tokenizer itself splits the text (after a run of line breaks, or before
whitespace that follows a non-space character); a chunk cut anywhere else (inside a
giant word, between CJK characters) is counted again on its own text and shrunk until
it fits. A custom `Callable[[str], int]` counter works too: the furthest end is then
found by binary search with the counter, and every chunk is counted with it.
"""

from __future__ import annotations

import bisect
import math
import re
from collections.abc import Sequence
from functools import cache
from itertools import accumulate

from ..documents import Chunk, Document, LineIndex
from ..errors import SplitError
from ..text import is_abbreviation
from ..tokens import DEFAULT_ENCODING, TokenCounter, get_encoding

MIN_FILL = 0.8
"""A paragraph or sentence boundary must leave the chunk at least this full; below it a
lower-ranked boundary nearer the limit is preferred (keeps the mean fill near 0.9)."""

SECTION_MIN_FILL = 0.5
"""A chapter or heading start is worth a chunk only half full."""

FALLBACK_MIN_FILL = 0.5
"""Second round: any paragraph, sentence or line end that leaves the chunk half full."""

_PARAGRAPH = re.compile(r"\n(?:[ \t\r]*\n)+")
_LINE = re.compile(r"\n[\r\n]*")
_SENTENCE = re.compile(r"[.!?\u2026]['\"\u201d\u2019)\]*_]*(?=\s)|[\u3002\uff01\uff1f][\u300d\u300f\uff09\u201d\u2019]*")
_WORD = re.compile(r"(?<=\S)\s")

_PROSE_ORDER = (
    ("section", SECTION_MIN_FILL),
    ("paragraph", MIN_FILL),
    ("sentence", MIN_FILL),
    ("paragraph", FALLBACK_MIN_FILL),
    ("sentence", FALLBACK_MIN_FILL),
    ("line", FALLBACK_MIN_FILL),
    ("word", FALLBACK_MIN_FILL),
    ("line", 0.0),
    ("sentence", 0.0),
    ("word", 0.0),
)
_CODE_ORDER = (
    ("section", SECTION_MIN_FILL),
    ("paragraph", MIN_FILL),
    ("line", MIN_FILL),
    ("paragraph", FALLBACK_MIN_FILL),
    ("line", FALLBACK_MIN_FILL),
    ("word", FALLBACK_MIN_FILL),
    ("line", 0.0),
    ("word", 0.0),
)
"""Boundary preferences tried in turn, each with the least fill it must leave; the token
cut (at the furthest end that fits) is the last resort."""


_CONTINUATION_BYTES = bytes(range(0x80, 0xC0))


@cache
def _token_char_memo(encoding_name: str) -> tuple[dict[int, int], dict[int, int]]:
    return {}, {}


def _token_char_tables(encoding_name: str, tokens: list[int]) -> tuple[dict[int, int], dict[int, int]]:
    """Per token id of `tokens`: how many characters start in it (UTF-8 lead bytes), and
    whether it starts inside a character (with a continuation byte).

    Filled for the ids met so far, per encoding: a book meets a few thousand of o200k's
    200k ids, and the whole vocabulary would cost a command a third of a second to tabulate.
    """
    leads, starts_inside = _token_char_memo(encoding_name)
    missing = set(tokens).difference(leads)
    if missing:
        encoding = get_encoding(encoding_name)
        for token_id in missing:
            try:
                data = encoding.decode_single_token_bytes(token_id)
            except KeyError:
                data = b""
            starts_inside[token_id] = 1 if data and 0x80 <= data[0] < 0xC0 else 0
            leads[token_id] = min(255, len(data.translate(None, _CONTINUATION_BYTES)))
    return leads, starts_inside


_WHITE_SPACE = frozenset(
    "\t\n\x0b\x0c\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009"
    "\u200a\u2028\u2029\u202f\u205f\u3000"
)
"""Unicode White_Space: what `\\s` means to tiktoken's pre-tokenizer (not str.isspace)."""


def _is_pretoken_boundary(text: str, position: int) -> bool:
    """Whether tiktoken's pre-tokenizer always splits here, whatever surrounds the text.

    Two places qualify: after a run of line breaks, when the following whitespace holds
    no further line break (and no `/`, which a punctuation piece would swallow); and
    before whitespace that follows a letter or digit (or punctuation, when that
    whitespace is not a line break, which a punctuation piece would swallow too).
    Counting the two sides separately then gives the same tokens as counting them joined.
    """
    if position <= 0 or position >= len(text):
        return True
    before, after = text[position - 1], text[position]
    if before in "\r\n":
        if after in "\r\n/":
            return False
        index = position
        while index < len(text) and text[index] in _WHITE_SPACE:
            if text[index] in "\r\n":
                return False
            index += 1
        return True
    if after not in _WHITE_SPACE or before in _WHITE_SPACE:
        return False
    return after not in "\r\n" or before.isalnum()


class _EncodedText:
    """Token offsets of one text from a single tiktoken encode."""

    def __init__(self, text: str, encoding_name: str) -> None:
        encoding = get_encoding(encoding_name)
        self.text = text
        self._encode = encoding.encode_ordinary
        tokens = self._encode(text)
        leads, starts_inside = _token_char_tables(encoding_name, tokens)
        self.count_total = len(tokens)
        self.offsets = list(accumulate(map(leads.__getitem__, tokens), initial=0))
        self._inside = None if text.isascii() else [starts_inside[t] for t in tokens] + [0]

    def _aligned(self, index: int) -> bool:
        return self._inside is None or not self._inside[index]

    def index_at(self, position: int) -> int:
        """Index of the token holding the character at `position` (len(tokens) at the end)."""
        return bisect.bisect_right(self.offsets, position) - 1

    def reach(self, start: int, limit: int) -> int:
        """The furthest character position within about `limit` tokens of `start`."""
        index = self.index_at(start) + limit
        if index >= self.count_total:
            return len(self.text)
        while index > 0 and not self._aligned(index):
            index -= 1
        return max(self.offsets[index], start + 1)

    def position_after(self, start: int, tokens: int) -> int:
        index = min(self.count_total, self.index_at(start) + max(0, tokens))
        return self.offsets[index]

    def position_before(self, end: int, tokens: int) -> int:
        index = max(0, self.index_at(end) - max(0, tokens))
        while index > 0 and not self._aligned(index):
            index -= 1
        return self.offsets[index]

    def count(self, start: int, end: int) -> int:
        """Exact token count of text[start:end]."""
        if _is_pretoken_boundary(self.text, start) and _is_pretoken_boundary(self.text, end):
            first, last = self.index_at(start), self.index_at(end)
            if (
                self.offsets[first] == start
                and self.offsets[last] == end
                and self._aligned(first)
                and self._aligned(last)
            ):
                return last - first
        return len(self._encode(self.text[start:end]))


class _CountedText:
    """The same questions answered with any `Callable[[str], int]` counter."""

    def __init__(self, text: str, counter: TokenCounter) -> None:
        self.text = text
        self._counter = counter
        sample = text[:20_000]
        self._chars_per_token = max(0.25, len(sample) / max(1, counter(sample)))

    def reach(self, start: int, limit: int) -> int:
        """The furthest end whose text fits `limit` tokens (binary search with the counter)."""
        text, count = self.text, self._counter
        size = len(text)
        step = max(1, int(limit * self._chars_per_token))
        low, high = start, min(size, start + step)
        while count(text[start:high]) <= limit:
            if high >= size:
                return size
            low, high = high, min(size, high + step)
            step *= 2
        while high - low > 1:
            middle = (low + high) // 2
            if count(text[start:middle]) <= limit:
                low = middle
            else:
                high = middle
        if low > start:
            self._chars_per_token = max(0.25, (low - start) / max(1, limit))
        return max(low, start + 1)

    def position_after(self, start: int, tokens: int) -> int:
        return min(len(self.text), start + int(tokens * self._chars_per_token))

    def position_before(self, end: int, tokens: int) -> int:
        return max(0, end - int(tokens * self._chars_per_token))

    def count(self, start: int, end: int) -> int:
        return self._counter(self.text[start:end])


class TokenSplitter:
    """Splits a document into chunks of at most `limit` tokens at natural boundaries.

    `counter` is an encoding name, any `Callable[[str], int]`, or None for `encoding`
    (tiktoken, offline). `overlap` tokens of each chunk's end are repeated at the start
    of the next (rounded to a word start).
    """

    def __init__(
        self,
        limit: int,
        counter: str | TokenCounter | None = None,
        overlap: int = 0,
        encoding: str = DEFAULT_ENCODING,
    ) -> None:
        if limit < 1:
            raise SplitError(f"chunk limit must be at least 1 token, not {limit}", limit=limit)
        if not 0 <= overlap < limit:
            raise SplitError(f"overlap must be between 0 and {limit - 1} tokens, not {overlap}", limit=limit)
        if isinstance(counter, str):
            encoding, counter = counter, None
        self.limit = limit
        self.overlap = overlap
        self.encoding = encoding
        self.counter = counter

    def split(self, document: Document | str) -> list[Chunk]:
        """Chunks in order; `document.text[c.start:c.end] == c.text` for each."""
        if isinstance(document, str):
            document = Document.from_text(document)
        text = document.text
        if not text:
            return []
        spans = self.spans(text, sections=[s.start for s in document.sections], prose=document.kind not in ("code", "data"))
        return _build_chunks(document, spans, self.limit)

    def spans(self, text: str, *, sections: Sequence[int] = (), prose: bool = True) -> list[tuple[int, int, int]]:
        """(start, end, tokens) of each chunk of `text`."""
        if not text:
            return []
        measure = _CountedText(text, self.counter) if self.counter else _EncodedText(text, self.encoding)
        order = _PROSE_ORDER if prose else _CODE_ORDER
        section_starts = sorted(set(sections))
        limit, size = self.limit, len(text)
        spans: list[tuple[int, int, int]] = []
        start = 0
        while start < size:
            reach = measure.reach(start, limit)
            end = reach if reach >= size else _best_cut(text, start, reach, measure, limit, order, section_starts)
            tokens = measure.count(start, end)
            while tokens > limit:
                if end - start <= 1:
                    raise SplitError(
                        f"one character needs {tokens} tokens, more than the limit of {limit}",
                        limit=limit,
                        tokens=tokens,
                    )
                reach = min(end - 1, max(start + 1, measure.position_before(end, tokens - limit)))
                end = _best_cut(text, start, reach, measure, limit, order, section_starts)
                tokens = measure.count(start, end)
            spans.append((start, end, tokens))
            if end >= size:
                break
            start = self._next_start(text, start, end, measure) if self.overlap else end
        return spans

    def _next_start(self, text: str, start: int, end: int, measure) -> int:
        """A word start about `overlap` tokens before `end` (or `end` itself)."""
        target = max(start + 1, measure.position_before(end, self.overlap))
        if target >= end:
            return end
        match = _WORD.search(text, target, end)
        return match.start() if match else target


def _best_cut(text: str, start: int, reach: int, measure, limit: int, order, sections: list[int]) -> int:
    """The best boundary in (start, reach]: the first kind in `order` found far enough on."""
    for kind, min_fill in order:
        low = max(start + 1, measure.position_after(start, math.ceil(min_fill * limit)) if min_fill else start + 1)
        if low > reach:
            continue
        cut = _last_boundary(text, kind, low, reach, sections)
        if cut is not None:
            return cut
    return reach


def _last_boundary(text: str, kind: str, low: int, high: int, sections: list[int]) -> int | None:
    """The last cut position of `kind` in [low, high], or None."""
    if kind == "section":
        index = bisect.bisect_right(sections, high) - 1
        return sections[index] if index >= 0 and sections[index] >= low else None
    if kind == "paragraph":
        return _last_match_end(_PARAGRAPH, text, low, high)
    if kind == "line":
        return _last_match_end(_LINE, text, low, high)
    if kind == "word":
        last = None
        for match in _WORD.finditer(text, low, high + 1 if high < len(text) else high):
            last = match.start()
        return last
    # sentence
    last = None
    window_start = max(0, low - 1)
    for match in _SENTENCE.finditer(text, window_start, min(len(text), high + 1)):
        cut = match.end()
        if cut < low or cut > high or not _ends_sentence(text, match.start(), cut):
            continue
        newline_end = cut
        while newline_end < len(text) and text[newline_end] in "\r\n":
            newline_end += 1
        if cut < newline_end <= high:
            cut = newline_end
        last = cut
    return last


def _last_match_end(pattern: re.Pattern[str], text: str, low: int, high: int) -> int | None:
    last = None
    for match in pattern.finditer(text, max(0, low - 1), high):
        if match.end() >= low:
            last = match.end()
    return last


def _ends_sentence(text: str, mark: int, cut: int) -> bool:
    """Not an abbreviation (`Mr.`, `e.g.`), not followed by a lowercase continuation."""
    if text[mark] == "." and is_abbreviation(text, mark):
        return False
    following = text[cut : cut + 4].lstrip()
    return not (following and following[0].islower())


def _build_chunks(document: Document, spans: list[tuple[int, int, int]], limit: int) -> list[Chunk]:
    text = document.text
    lines = LineIndex(text)
    section_starts = [s.start for s in document.sections]
    base: dict = {}
    if document.path:
        base["path"] = document.path
    if document.language:
        base["language"] = document.language
    chunks = []
    for index, (start, end, tokens) in enumerate(spans):
        meta = dict(base)
        if section_starts:
            at = bisect.bisect_right(section_starts, start) - 1
            if at >= 0:
                meta["section"] = document.sections[at].title
        chunks.append(
            Chunk(
                doc_id=document.id,
                index=index,
                start=start,
                end=end,
                text=text[start:end],
                tokens=tokens,
                lines=lines.span(start, end),
                meta=meta,
            )
        )
    return chunks
