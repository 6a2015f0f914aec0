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
import re
from collections.abc import Iterable

from .notes import ABBREVIATION

_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_SENTENCE = re.compile(r"[^.!?。！？\n]*(?:[.!?。！？]+[\"'”’)\]]*|\n|$)")

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


def _words(text: str) -> list[str]:
    if text.isascii():  # lower-casing ASCII keeps every offset and word boundary: one pass
        return _WORD.findall(text.lower())
    return [w.lower() for w in _WORD.findall(text)]


def sentences(text: str) -> list[str]:
    """The sentences of `text`, each with its end and the whitespace after it; a full stop
    after an abbreviation or initial ("Mme. Vauquer") does not end one."""
    found: list[str] = []
    pending = ""
    for match in _SENTENCE.finditer(text):
        piece = match.group()
        if not piece:
            continue
        pending += piece
        if not piece.endswith("\n") and ABBREVIATION.search(pending.rstrip()[-8:]):
            continue
        found.append(pending)
        pending = ""
    if pending:
        found.append(pending)
    return found


@functools.lru_cache(maxsize=8192)
def sentence_key(sentence: str) -> str:
    """A sentence normalised for comparison: lower-case words only (memoised: the writer
    repairs a section's text again, sentence by sentence, after every call)."""
    return " ".join(_words(sentence))


@functools.lru_cache(maxsize=8192)
def _bag(key: str) -> tuple[int, frozenset[str]]:
    """A sentence key's word count and set of words (memoised with the keys)."""
    words = key.split()
    return len(words), frozenset(words)


def repeated_ngram_share(text: str, n: int = LOOP_NGRAM) -> float:
    """Share (0..1) of the word n-grams of `text` that repeat an earlier n-gram."""
    words = _words(text)
    grams = [tuple(words[i : i + n]) for i in range(len(words) - n + 1)]
    if not grams:
        return 0.0
    return 1.0 - len(set(grams)) / len(grams)


def _nth_word_start(text: str, n: int) -> int:
    return next(itertools.islice(_WORD.finditer(text), n, None)).start()


def _cut_word_loop(text: str) -> str:
    """Cut `text` where a run of LOOP_RUN n-grams repeats ones already written."""
    words = _words(text)
    seen: set[tuple[str, ...]] = set()
    run_start: int | None = None
    run = 0
    for i, gram in enumerate(zip(*(words[k:] for k in range(LOOP_NGRAM)), strict=False)):
        if gram in seen:
            if run == 0:
                run_start = i
            run += 1
            if run >= LOOP_RUN and run_start is not None:
                return text[: _nth_word_start(text, run_start)].rstrip(" ,;:-—")
        else:
            run = 0
            run_start = None
        seen.add(gram)
    return text


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


def repair_repetition(text: str, earlier: Iterable[str] = (), near: Iterable[str] | None = None) -> str:
    """`text` without repeated sentences and without a trailing word loop.

    A sentence (of MIN_SENTENCE_WORDS or more) already written in this text or in `earlier`
    (sentence keys from text written before), or a long one nearly the same as one in this
    text or in `near` (keys to compare loosely; default all of `earlier`) (NEAR_DUPLICATE),
    is dropped; a phrase loop inside the remaining
    text cuts it at the loop's start. Paragraph breaks of the kept text are preserved.
    """
    seen = set(earlier)
    index = _NearIndex()
    for key in seen if near is None else near:
        count, bag = _bag(key)
        if count >= NEAR_MIN_WORDS:
            index.add(bag)
    kept: list[str] = []
    for sentence in sentences(text):
        key = sentence_key(sentence)
        count, bag = _bag(key)
        if count >= MIN_SENTENCE_WORDS:
            if key in seen or (count >= NEAR_MIN_WORDS and index.has_near(bag)):
                if sentence.endswith("\n"):
                    kept.append("\n")
                continue
            seen.add(key)
            if count >= NEAR_MIN_WORDS:
                index.add(bag)
        kept.append(sentence)
    joined = re.sub(r"\n{3,}", "\n\n", "".join(kept))
    return _cut_word_loop(joined).strip()


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
