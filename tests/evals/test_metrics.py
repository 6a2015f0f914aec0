"""QA metrics against hand-computed cases."""

from __future__ import annotations

import pytest

from longdoc.evals.metrics import (
    choice_accuracy,
    evidence_recall,
    exact_match,
    f1,
    mean,
    normalize_answer,
    option_letter,
    parse_options,
    token_f1,
)

QUESTION = (
    "Why did they leave the door unlocked?\n\n (A) They were careless. \n (B) Their subconscious "
    "wanted him gone. \n (C) They were tired of the Ruler.  \n (D) He was no threat. "
)


def test_normalisation_drops_case_punctuation_and_articles():
    assert normalize_answer("The  Cat, sat on a MAT!") == "cat sat on mat"
    assert normalize_answer("April 25 , 2018") == "april 25 2018"
    assert normalize_answer("an apple") == "apple"


def test_exact_match_after_normalisation_against_any_gold():
    assert exact_match("the Eiffel Tower.", ["Eiffel tower"]) == 1.0
    assert exact_match("Eiffel", ["Eiffel tower"]) == 0.0
    assert exact_match("ten", ["10", "ten"]) == 1.0


def test_token_f1_hand_computed():
    # prediction: [april, 25] gold: [april, 25, 2018] -> P = 1, R = 2/3, F1 = 0.8
    assert token_f1("April 25", "April 25 , 2018") == pytest.approx(0.8)
    # prediction: [in, april, 2018, i, think] vs [april, 25, 2018]: common 2, P = 2/5, R = 2/3
    assert token_f1("in April 2018 I think", "April 25, 2018") == pytest.approx(2 * 0.4 * (2 / 3) / (0.4 + 2 / 3))
    assert token_f1("nothing", "April") == 0.0
    assert token_f1("the", "a") == 1.0  # both normalise to empty
    assert f1("April 25", ["13", "April 25, 2018"]) == pytest.approx(0.8)


def test_options_are_parsed_from_the_question():
    options = parse_options(QUESTION)
    assert list(options) == ["A", "B", "C", "D"]
    assert options["C"] == "They were tired of the Ruler."


@pytest.mark.parametrize(
    ("text", "letter"),
    [
        ("(B) Their subconscious wanted him gone.", "B"),
        ("B", "B"),
        (" C. because", "C"),
        ("D)", "D"),
        ("The answer is (A)", "A"),
        ("Their subconscious wanted him gone", "B"),  # option text
        ("A man walked in", None),  # the article, not option A, and no option text matches
    ],
)
def test_option_letter(text, letter):
    assert option_letter(text, parse_options(QUESTION)) == letter


def test_choice_accuracy():
    gold = "(B) Their subconscious wanted him gone."
    assert choice_accuracy("B) Their subconscious", gold, QUESTION) == 1.0
    assert choice_accuracy("(C)", gold, QUESTION) == 0.0
    assert choice_accuracy("no idea", gold, QUESTION) == 0.0
    assert choice_accuracy("B", gold, "A question without options?") is None


def test_evidence_recall_counts_gold_answers_present_in_the_document():
    document = "The season premiered on April 25, 2018 with 13 episodes."
    assert evidence_recall(["April 25 , 2018"], document, "it began April 25 2018.") == 1.0
    assert evidence_recall(["April 25 , 2018"], document, "it began in spring") == 0.0
    assert evidence_recall(["April 25 , 2018", "13"], document, "13 episodes") == 0.5
    assert evidence_recall(["not in the text"], document, "anything") is None
    assert evidence_recall(["13"], document, None) is None
    assert evidence_recall(["13"], document, "113 things") == 0.0  # whole tokens only


def test_mean_ignores_metrics_that_do_not_apply():
    assert mean([1.0, None, 0.0]) == 0.5
    assert mean([None]) is None
