"""Hard-wrapped prose is joined into one line per paragraph; every other layout is kept."""

from __future__ import annotations

from longdoc.agents.reflow import reflow_prose
from longdoc.tokens import token_counter

WRAPPED = (
    "Mme. Vauquer (_nee_ de Conflans) is an elderly person, who for the past\n"
    "forty years has kept a lodging-house in the Rue Nueve-Sainte-Genevieve,\n"
    "in the district that lies between the Latin Quarter and the Faubourg\n"
    "Saint-Marcel."
)


def test_a_wrapped_paragraph_becomes_one_line_with_the_same_words():
    joined = reflow_prose(WRAPPED)
    assert "\n" not in joined
    assert joined.split() == WRAPPED.split()
    assert token_counter()(joined) < token_counter()(WRAPPED)


def test_paragraph_breaks_are_kept_and_reflowing_twice_changes_nothing():
    text = f"{WRAPPED}\n\n\n{WRAPPED}\n"
    joined = reflow_prose(text)
    assert joined.count("\n\n\n") == 1
    assert joined.split("\n\n\n")[0] == reflow_prose(WRAPPED)
    assert reflow_prose(joined) == joined


def test_a_line_broken_after_a_hyphen_is_joined_without_a_space():
    text = (
        "The boarders took their meals in the long dining room on the ground-\n"
        "floor, where the stove was lit only in the coldest weeks of the year."
    )
    assert "ground-floor," in reflow_prose(text)


def test_lists_indented_blocks_fences_and_verse_keep_their_lines():
    layouts = [
        "- the first item of a list that goes on for quite a long while here\n"
        "- the second item of a list that goes on for quite a long while too",
        "    def indented(code): return 'kept exactly as it is, line by line'\n"
        "    print('this is a second line of the indented block of code')",
        "```\nsome fenced code that is long enough to look like a wrapped line\n"
        "more fenced code that is long enough to look like a wrapped line\n```",
        "Tyger Tyger, burning bright,\nIn the forests of the night;\n"
        "What immortal hand or eye,\nCould frame thy fearful symmetry?",
        "| a table row that is long enough to look like wrapped prose text |\n"
        "| another table row that is long enough to look like wrapped text |",
    ]
    for text in layouts:
        assert reflow_prose(text) == text



def test_a_short_line_inside_a_paragraph_marks_it_as_laid_out_by_hand():
    text = WRAPPED.replace("Faubourg\n", "Faubourg\nSaint-Marcel.\n", 1)
    assert reflow_prose(text) == text
