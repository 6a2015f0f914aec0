"""Degenerate output: measuring and cutting the repetition loops small models fall into.

A 270M base model asked to write 500 words often writes 150 and then repeats a sentence, or a
phrase, until its token limit. The writer repairs such output before counting its length (so
that a loop never passes for progress), and dataset generation rejects rows that are still
repetitive after repair.
"""

from __future__ import annotations

import functools
import itertools
import math
import operator
import re
from collections.abc import Iterable

from ..text import WORD, sentences, words

LOOP_NGRAM = 5
"""Word n-gram size used to spot a loop: long enough that ordinary phrases rarely recur."""

LOOP_RUN = 4
"""Consecutive already-seen n-grams that make a loop (an 8-word phrase said twice is a loop; a 6-word one may be chance)."""

MIN_SENTENCE_WORDS = 4
"""Sentences shorter than this ("Yes." "In short.") may repeat without being a loop."""

NEAR_DUPLICATE = 0.8
"""Word-set overlap (Jaccard) at which a sentence of NEAR_MIN_WORDS or more counts as a
reworded repeat: small models loop with a word changed here and there."""

NEAR_MIN_WORDS = 8


@functools.lru_cache(maxsize=8192)
def sentence_key(sentence: str) -> str:
    """A sentence normalised for comparison: lower-case words only (memoised: the writer
    repairs a section's text again, sentence by sentence, after every call)."""
    return " ".join(words(sentence))


@functools.lru_cache(maxsize=8192)
def _bag(key: str) -> tuple[int, frozenset[str]]:
    """A sentence key's word count and set of words (memoised with the keys)."""
    words = key.split()
    return len(words), frozenset(words)


def _grams(words: list[str], n: int) -> list[tuple[str, ...]]:
    return list(zip(*(words[k:] for k in range(n)), strict=False))


def repeated_ngram_share(text: str, n: int = LOOP_NGRAM) -> float:
    """Share (0..1) of the word n-grams of `text` that repeat an earlier n-gram."""
    grams = _grams(words(text), n)
    if not grams:
        return 0.0
    return 1.0 - len(set(grams)) / len(grams)


def _nth_word_start(text: str, n: int) -> int:
    return next(itertools.islice(WORD.finditer(text), n, None)).start()


_LOOP = b"\x01" * LOOP_RUN


def _cut_word_loop(text: str) -> str:
    """Cut `text` where a run of LOOP_RUN n-grams repeats ones already written.

    Vectorised (the writer runs it after every call): the first position of every n-gram
    from one dict built back to front, a byte per n-gram flagging "seen before", and the
    first run of LOOP_RUN flags found by `bytes.find`."""
    grams = _grams(words(text), LOOP_NGRAM)
    if len(grams) < LOOP_RUN:
        return text
    first = dict(zip(reversed(grams), range(len(grams) - 1, -1, -1), strict=True))
    repeated = bytes(map(operator.ne, map(first.__getitem__, grams), range(len(grams))))
    start = repeated.find(_LOOP)
    if start < 0:
        return text
    return text[: _nth_word_start(text, start)].rstrip(" ,;:-—")


def _rarity_order(word: str) -> tuple[int, str]:
    """The fixed word order of the prefix filter: longer words first (in prose, a long word
    is a rare one, so prefixes index few sentences), then alphabetical."""
    return -len(word), word


class _NearIndex:
    """Sets of words, searchable for one with Jaccard similarity >= NEAR_DUPLICATE.

    Prefix filtering (exact): with the words of every set in one fixed order, two sets that
    similar must share a word among the first len - ceil(t*len) + 1 words of each, so only
    those prefix words are indexed and looked up, not every earlier sentence compared.
    """

    def __init__(self) -> None:
        self._sets: list[frozenset[str]] = []
        self._postings: dict[str, list[int]] = {}

    @staticmethod
    @functools.lru_cache(maxsize=8192)
    def _prefix(bag: frozenset[str]) -> tuple[str, ...]:
        size = len(bag) - math.ceil(NEAR_DUPLICATE * len(bag)) + 1
        return tuple(sorted(bag, key=_rarity_order)[:size])

    def add(self, bag: frozenset[str]) -> None:
        index = len(self._sets)
        self._sets.append(bag)
        for word in self._prefix(bag):
            self._postings.setdefault(word, []).append(index)

    def has_near(self, bag: frozenset[str]) -> bool:
        candidates: set[int] = set()
        for word in self._prefix(bag):
            candidates.update(self._postings.get(word, ()))
        size = len(bag)
        for index in candidates:
            other = self._sets[index]
            common = len(bag & other)
            if common >= NEAR_DUPLICATE * (size + len(other) - common):  # |bag | other|
                return True
        return False


class RepetitionFilter:
    """`repair_repetition` against a fixed set of earlier sentences, indexed once.

    The writer repairs a section after every call, always against the same earlier sections,
    and always on the text it kept last time plus a new piece. So the earlier sentences are
    built into a set and a near-duplicate index once per section, not once per call; and the
    sentences of the last output (all but its last, which the new piece may finish) are
    taken as they are when the next text starts with them: they passed this filter in this
    order already, so they are added to the seen set and index without being checked again.
    The result is the same as `repair_repetition`'s for any text.
    """

    def __init__(self, earlier: Iterable[str] = (), near: Iterable[str] | None = None) -> None:
        self._seen = frozenset(earlier)
        self._index = _NearIndex()
        for key in self._seen if near is None else near:
            count, bag = _bag(key)
            if count >= NEAR_MIN_WORDS:
                self._index.add(bag)
        self._passed = ""
        """The start of the last output: whole sentences that passed, in order."""
        self._passed_sentences: list[str] = []

    def repair(self, text: str) -> str:
        """`text` without repeated sentences and without a trailing word loop (see
        `repair_repetition`)."""
        earlier, earlier_near = self._seen, self._index
        seen: set[str] = set()
        index = _NearIndex()
        kept: list[str] = []
        start = 0
        if self._passed and text.startswith(self._passed):
            for sentence in self._passed_sentences:
                key = sentence_key(sentence)
                count, bag = _bag(key)
                if count >= MIN_SENTENCE_WORDS:
                    seen.add(key)
                    if count >= NEAR_MIN_WORDS:
                        index.add(bag)
                kept.append(sentence)
            start = len(self._passed)
        for sentence in sentences(text[start:]) if start else sentences(text):
            key = sentence_key(sentence)
            count, bag = _bag(key)
            if count >= MIN_SENTENCE_WORDS:
                near = count >= NEAR_MIN_WORDS
                if key in earlier or key in seen or (near and (earlier_near.has_near(bag) or index.has_near(bag))):
                    if sentence.endswith("\n"):
                        kept.append("\n")
                    continue
                seen.add(key)
                if near:
                    index.add(bag)
            kept.append(sentence)
        joined = _BLANK_RUN.sub("\n\n", "".join(kept))
        repaired = _cut_word_loop(joined).strip()
        passed = sentences(repaired)[:-1]
        self._passed_sentences = passed
        self._passed = "".join(passed)
        return repaired


_BLANK_RUN = re.compile(r"\n{3,}")


def repair_repetition(text: str, earlier: Iterable[str] = (), near: Iterable[str] | None = None) -> str:
    """`text` without repeated sentences and without a trailing word loop.

    A sentence (of MIN_SENTENCE_WORDS or more) already written in this text or in `earlier`
    (sentence keys from text written before), or a long one nearly the same as one in this
    text or in `near` (keys to compare loosely; default all of `earlier`) (NEAR_DUPLICATE),
    is dropped; a phrase loop inside the remaining text cuts it at the loop's start.
    Paragraph breaks of the kept text are preserved. (Repairing many texts against the same
    `earlier`: build one `RepetitionFilter`.)
    """
    return RepetitionFilter(earlier, near).repair(text)


@functools.lru_cache(maxsize=256)
def sentence_keys(text: str) -> frozenset[str]:
    """Keys of the sentences of `text` long enough to count as repeats (memoised: the writer
    asks again for every earlier section at every call)."""
    keys = set()
    for sentence in sentences(text):
        key = sentence_key(sentence)
        if len(key.split()) >= MIN_SENTENCE_WORDS:
            keys.add(key)
    return frozenset(keys)
