"""Length the way LongBench-Write measures it: counting words, scoring lengths, trimming text.

LongBench-Write counts English words (runs of Latin letters) plus CJK characters; digits and
punctuation do not count. We count exactly the same way, so that our own length control and the
published S_l scores measure the same thing.
"""

from __future__ import annotations

import bisect
import functools
import re

from ..errors import InvalidValue
from ..text import sentence_ends

_ENGLISH_WORD = re.compile(r"\b[a-zA-Z]+\b")
_CJK_CHARACTER = re.compile(r"[\u4e00-\u9fff]")


MEMO_CHARS = 16_384
"""Texts up to this long have their word count memoised (the writer counts the same section
text several times a call); longer ones, counted once or twice, are not kept."""


def count_words(text: str) -> int:
    """English words plus CJK characters, as LongBench-Write's `count_words`."""
    return _memo_count(text) if len(text) <= MEMO_CHARS else _count(text)


def _count(text: str) -> int:
    return len(_ENGLISH_WORD.findall(text)) + len(_CJK_CHARACTER.findall(text))


_memo_count = functools.lru_cache(maxsize=256)(_count)


def length_score(required: int, produced: int) -> float:
    """S_l in 0..100: over-length is penalised over a third of the target, under-length over a half.

    S_l = 100·max(0, 1 − (y/x − 1)/3) if y > x, else 100·max(0, 1 − (x/y − 1)/2); y = 0 scores 0.
    """
    if required <= 0:
        raise InvalidValue(f"required length must be positive, got {required}", setting="required", value=required)
    if produced <= 0:
        return 0.0
    if produced > required:
        return 100.0 * max(0.0, 1.0 - (produced / required - 1.0) / 3.0)
    return 100.0 * max(0.0, 1.0 - (required / produced - 1.0) / 2.0)


def trim_to_words(text: str, limit: int) -> str:
    """The longest prefix of `text` ending at a sentence boundary with at most `limit` words.

    When even the first sentence is longer than `limit`, that first sentence is kept whole
    (never cut mid-sentence); text without any sentence end is returned unchanged.
    """
    if count_words(text) <= limit:
        return text
    # Words before each end, from the offsets of the words in one pass: a sentence end never
    # falls inside a word (it follows punctuation or a blank line), so the words of
    # text[:end] are exactly those that end by `end` (counting each prefix anew was quadratic).
    word_ends = [m.end() for m in _ENGLISH_WORD.finditer(text)]
    cjk_starts = [m.start() for m in _CJK_CHARACTER.finditer(text)]
    best: int | None = None
    for end in sentence_ends(text):
        if bisect.bisect_right(word_ends, end) + bisect.bisect_left(cjk_starts, end) <= limit:
            best = end
        else:
            if best is None:
                best = end
            break
    if best is None:
        return text
    return text[:best].rstrip()


def ends_mid_sentence(text: str) -> bool:
    """True when the text stops without closing its last sentence."""
    stripped = text.rstrip()
    return bool(stripped) and stripped[-1] not in ".!?。！？\"'”’)]:*"


def drop_unfinished_sentence(text: str) -> str:
    """Cut a dangling half sentence at the end (a generation stopped by its token limit)."""
    if not ends_mid_sentence(text):
        return text
    ends = sentence_ends(text)
    if not ends:
        return text
    return text[: ends[-1]].rstrip()
