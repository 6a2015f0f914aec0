"""Repetition loops of small models are measured and cut."""

from hypothesis import given, settings
from hypothesis import strategies as st

from longdoc.agents.repetition import (
    LOOP_NGRAM,
    LOOP_RUN,
    NEAR_DUPLICATE,
    RepetitionFilter,
    _cut_word_loop,
    _NearIndex,
    _nth_word_start,
    repair_repetition,
    repeated_ngram_share,
    sentence_keys,
)
from longdoc.text import WORD
from longdoc.text import words as _words


def test_repeated_sentences_are_dropped_keeping_the_first():
    text = (
        "Bees collect nectar from many flowers. They bring it back to the hive. "
        "Bees collect nectar from many flowers. Bees collect nectar from many flowers. "
        "Then the workers fan it dry."
    )
    repaired = repair_repetition(text)
    assert repaired.count("Bees collect nectar from many flowers.") == 1
    assert repaired.endswith("Then the workers fan it dry.")


def test_a_phrase_loop_without_sentence_ends_is_cut_at_its_start():
    loop = "and the honey is sweet and golden " * 12
    text = "The hive works all summer long, " + loop
    repaired = repair_repetition(text)
    assert repaired.startswith("The hive works all summer long")
    assert repaired.count("honey is sweet and golden") == 1


def test_sentences_written_in_earlier_sections_are_not_repeated():
    earlier = sentence_keys("The queen lays up to two thousand eggs a day.")
    text = "The queen lays up to two thousand eggs a day. Drones have no sting at all."
    assert repair_repetition(text, earlier) == "Drones have no sting at all."


def test_ordinary_prose_and_short_repeats_are_left_alone():
    text = (
        "Honeybees live in colonies. A colony has one queen, thousands of workers and a few "
        "hundred drones. Yes, it does.\n\nWorkers forage for nectar. Yes, it does."
    )
    assert repair_repetition(text) == text


def test_repeated_ngram_share():
    assert repeated_ngram_share("one two three four five six seven eight nine ten") == 0.0
    assert repeated_ngram_share("the bee flies home now " * 20) > 0.9
    assert repeated_ngram_share("") == 0.0


def test_reworded_repeats_of_long_sentences_are_dropped():
    text = (
        "For one thing, it keeps my mind off things like stress, anxiety, and depression. "
        "Walking also builds stamina over the weeks. "
        "For one thing, walking keeps my mind off things like stress, anxiety, depression."
    )
    repaired = repair_repetition(text)
    assert repaired.count("keeps my mind off") == 1
    assert "Walking also builds stamina over the weeks." in repaired


_VOCABULARY = ["bee", "hive", "honey", "sweet", "golden", "queen", "drone", "wax", "comb", "flower", "nectar", "sun"]


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.frozensets(st.sampled_from(_VOCABULARY), min_size=1), max_size=25),
    st.frozensets(st.sampled_from(_VOCABULARY), min_size=1),
)
def test_near_index_finds_exactly_the_sets_at_the_jaccard_threshold(stored, probe):
    index = _NearIndex()
    for bag in stored:
        index.add(bag)
    expected = any(len(probe & bag) >= NEAR_DUPLICATE * len(probe | bag) for bag in stored)
    assert index.has_near(probe) == expected


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="abcXYZ_09 .,'\n\u0130\u00e9\u00df\u4eca", max_size=60))
def test_words_are_lower_cased_word_runs_for_any_text(text):
    assert _words(text) == [w.lower() for w in WORD.findall(text)]


def _cut_word_loop_by_scanning(text):
    """The plain scan `_cut_word_loop` vectorises: the reference it must agree with."""
    words = _words(text)
    seen, run, run_start = set(), 0, None
    for i in range(len(words) - LOOP_NGRAM + 1):
        gram = tuple(words[i : i + LOOP_NGRAM])
        if gram in seen:
            run_start = i if run == 0 else run_start
            run += 1
            if run >= LOOP_RUN:
                return text[: _nth_word_start(text, run_start)].rstrip(" ,;:-—")
        else:
            run, run_start = 0, None
        seen.add(gram)
    return text


_LOOPY = st.lists(
    st.sampled_from(["bee", "hive", "honey", "queen", "wax", "sun", "Bee", ",", ".", "\n", "—", "and"]), max_size=60
).map(" ".join)


@settings(max_examples=300, deadline=None)
@given(_LOOPY)
def test_vectorised_loop_cut_agrees_with_the_plain_scan(text):
    assert _cut_word_loop(text) == _cut_word_loop_by_scanning(text)


_SENTENCE = st.builds(
    lambda words, end: " ".join(words) + end,
    st.lists(st.sampled_from([*_VOCABULARY, "Mme", "Mr"]), min_size=1, max_size=12),
    st.sampled_from([".", "!", "?", "", "\n", "\n\n\n", ".\"", ",", ". Mme."]),
)
_PIECE = st.lists(_SENTENCE, max_size=8).map(" ".join)


@settings(max_examples=150, deadline=None)
@given(st.lists(_PIECE, max_size=3), st.lists(st.tuples(_PIECE, st.booleans()), min_size=1, max_size=6))
def test_filter_repairing_a_growing_text_agrees_with_repairing_it_whole(earlier_texts, steps):
    """The writer's use: the kept text plus a new piece, call after call (sometimes the new
    output is not kept, a stall). The filter skips re-checking what passed before; the result
    must be what `repair_repetition` gives for the whole text."""
    earlier = set().union(*(sentence_keys(t) for t in earlier_texts)) if earlier_texts else set()
    recent = sentence_keys(earlier_texts[-1]) if earlier_texts else frozenset()
    repetition = RepetitionFilter(earlier, recent)
    text = ""
    for piece, kept in steps:
        candidate = (text + " " + piece).strip() if text else piece
        expected = repair_repetition(candidate, earlier, recent)
        assert repetition.repair(candidate) == expected
        if kept:
            text = expected
