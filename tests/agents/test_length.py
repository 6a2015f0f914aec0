"""Length counted and scored the LongBench-Write way; trimming at sentence boundaries."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from longdoc.agents.length import (
    count_words,
    drop_unfinished_sentence,
    length_score,
    trim_to_words,
)
from longdoc.errors import ConfigError
from longdoc.text import sentence_ends


def test_count_words_counts_english_words_and_cjk_characters():
    assert count_words("The cat sat on the mat.") == 6
    assert count_words("我爱北京天安门") == 7
    assert count_words("Python 是一种 language, 3.11 版本") == 2 + 3 + 2
    assert count_words("") == 0
    assert count_words("1234 5678 !!!") == 0


def test_count_words_splits_contractions_like_the_benchmark():
    # LongBench-Write's \b[a-zA-Z]+\b counts "don't" as two words.
    assert count_words("don't stop") == 3


@pytest.mark.parametrize(
    ("required", "produced", "expected"),
    [
        (1000, 1000, 100.0),
        (1000, 0, 0.0),
        (1000, 2000, 100 * (1 - 1 / 3)),
        (1000, 4000, 0.0),
        (1000, 500, 100 * (1 - 1 / 2)),
        (1000, 250, 0.0),
        (1000, 1300, 90.0),
    ],
)
def test_length_score_matches_the_formula(required, produced, expected):
    assert length_score(required, produced) == pytest.approx(expected)


def test_length_score_rejects_a_zero_target():
    with pytest.raises(ConfigError, match="must be positive") as caught:
        length_score(0, 10)
    assert caught.value.setting == "required" and caught.value.value == 0


def test_trim_stops_at_a_sentence_boundary():
    text = "One two three four. Five six seven eight. Nine ten eleven twelve."
    assert trim_to_words(text, 9) == "One two three four. Five six seven eight."
    assert trim_to_words(text, 100) == text
    # A first sentence longer than the limit is kept whole, never cut mid-sentence.
    assert trim_to_words(text, 2) == "One two three four."


def test_trim_respects_cjk_sentence_ends():
    text = "今天天气很好。我们去公园散步。然后回家吃饭。"
    assert trim_to_words(text, 14) == "今天天气很好。我们去公园散步。"


def test_drop_unfinished_sentence():
    assert drop_unfinished_sentence("A whole sentence. And a half") == "A whole sentence."
    assert drop_unfinished_sentence("Done.") == "Done."


def _trim_by_recounting(text: str, limit: int) -> str:
    """The definition trim_to_words implements: recount every prefix ending at a sentence end."""
    if count_words(text) <= limit:
        return text
    best = None
    for end in sentence_ends(text):
        if count_words(text[:end]) <= limit:
            best = end
        else:
            best = end if best is None else best
            break
    return text if best is None else text[:best].rstrip()


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.sampled_from(["one", "Two", "don't", "café", "3.11", "今天", "好", " ", "\n", "\n\n", ". ", "! ", "?", "。", "”", "'", ")", "x1"]),
        max_size=60,
    ).map("".join),
    st.integers(min_value=0, max_value=30),
)
def test_trim_counts_words_like_recounting_each_prefix(text, limit):
    assert trim_to_words(text, limit) == _trim_by_recounting(text, limit)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(["word", " ", "\n\n", ". ", "!", "。", "\u3000", "\t"]), max_size=30).map("".join))
def test_sentence_ends_skip_ends_before_any_visible_text(text):
    ends = sentence_ends(text)
    assert ends == sorted(set(ends))
    assert all(text[:e].strip() for e in ends)
    # each end closes a sentence mark or a blank line, and every such mark before a space is one
    assert all(text[e - 1] in ".!?。\n" for e in ends)
    marks = [
        i + 1
        for i, ch in enumerate(text)
        if ch in ".!?" and text[:i].strip() and (i + 1 == len(text) or text[i + 1].isspace())
    ]
    assert set(marks) <= set(ends)
