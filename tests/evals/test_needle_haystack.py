"""Needle haystacks: length, depth, and the answer check."""

from __future__ import annotations

import json

import pytest

from longdoc.errors import SourceError
from longdoc.evals.needle import (
    answer_recall,
    answer_words,
    build_haystack,
    contains_answer,
    is_segment_fallback,
    load_essays,
    load_needle,
    run_cell,
)
from longdoc.llm.fake import FakeModel
from longdoc.tokens import count_tokens

ESSAY = "".join(f"Essay sentence number {i} talks about startups and taste. " for i in range(600))
NEEDLE_TEXT = "\nThe best thing to do in San Francisco is eat a sandwich and sit in Dolores Park on a sunny day.\n"


@pytest.fixture
def needle_files(tmp_path):
    essays = tmp_path / "essays"
    essays.mkdir()
    (essays / "b.txt").write_text(ESSAY[: len(ESSAY) // 2], encoding="utf-8")
    (essays / "a.txt").write_text(ESSAY[len(ESSAY) // 2 :], encoding="utf-8")
    config = tmp_path / "needle_config.json"
    config.write_text(
        json.dumps(
            {"single_needle": {"needle": NEEDLE_TEXT, "retrieval_question": "What is the best thing to do in San Francisco?"}}
        ),
        encoding="utf-8",
    )
    return essays, config


def test_loaders_read_the_needle_and_the_essays_in_name_order(needle_files):
    essays, config = needle_files
    needle = load_needle(config)
    assert needle.question == "What is the best thing to do in San Francisco?"
    assert load_essays(essays).startswith(ESSAY[len(ESSAY) // 2 :])
    with pytest.raises(SourceError):
        load_essays(essays / "missing")


@pytest.mark.parametrize("depth", [0, 25, 50, 75, 100])
def test_haystack_has_the_length_and_the_needle_at_its_depth(needle_files, depth):
    essays, _ = needle_files
    stack = build_haystack(load_essays(essays), NEEDLE_TEXT, tokens=1000, depth=depth)
    assert stack.text[stack.needle_start : stack.needle_end] == NEEDLE_TEXT
    assert abs(count_tokens(stack.text) - 1000) <= 3
    position = stack.needle_start / len(stack.text)
    assert abs(position - depth / 100) < 0.05
    if 0 < depth < 100:
        assert stack.text[stack.needle_start - 2 : stack.needle_start] == ". "  # at a sentence boundary


def test_a_haystack_longer_than_the_essays_is_refused(needle_files):
    essays, _ = needle_files
    with pytest.raises(SourceError, match="needs more"):
        build_haystack(load_essays(essays), NEEDLE_TEXT, tokens=100_000, depth=50)


def test_answer_check_counts_the_needle_words_the_question_lacks(needle_files):
    _, config = needle_files
    needle = load_needle(config)
    assert answer_words(needle) == {"eat", "sandwich", "sit", "dolores", "park", "sunny", "day"}
    assert contains_answer("Eat a sandwich and sit in Dolores Park.", needle)
    assert answer_recall("Dolores Park", needle) == pytest.approx(2 / 7)
    assert not contains_answer("Dolores Park", needle)


@pytest.mark.parametrize("scorer", ["lexical", "certainty"])
def test_an_xl3m_cell_reports_the_needle_segment_rank(needle_files, scorer):
    essays, config = needle_files
    needle = load_needle(config)
    stack = build_haystack(load_essays(essays), needle.text, tokens=3000, depth=50)
    cell = run_cell(stack, needle, strategy="xl3m", scorer=scorer, model=FakeModel(context_window=1024))
    assert cell.selected and cell.answered
    assert cell.segments is not None and cell.segments > 4
    assert cell.rank == 1


def test_a_fallback_answer_is_one_that_starts_with_a_whole_segment():
    segments = ["The committee met. The needle is here.", "Another segment."]
    assert is_segment_fallback("The committee met. The needle is here. Another segment.", segments)
    assert not is_segment_fallback("The needle is here.", segments)
    assert not is_segment_fallback("Eat a sandwich.", ["", "  "])
