"""Repetition loops of small models are measured and cut."""

from hypothesis import given, settings
from hypothesis import strategies as st

from longdoc.agents.repetition import (
    _WORD,
    NEAR_DUPLICATE,
    _NearIndex,
    _words,
    repair_repetition,
    repeated_ngram_share,
    sentence_keys,
)


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
    assert _words(text) == [w.lower() for w in _WORD.findall(text)]
