"""Length counted and scored the LongBench-Write way; trimming at sentence boundaries."""

import pytest

from longdoc.agents.length import (
    count_words,
    drop_unfinished_sentence,
    length_score,
    trim_to_words,
)


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
    with pytest.raises(ValueError):
        length_score(0, 10)


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
