"""The planner parses strictly, repairs or re-asks, and never passes on a broken plan."""

import asyncio
import itertools

import pytest
from pydantic import ValidationError

from longdoc.agents.derived_plan import topic_of
from longdoc.agents.plan import (
    Plan,
    PlannedSection,
    allocate_budgets,
    balanced_budgets,
    section_count,
)
from longdoc.agents.plan_replies import parse_plan_lines
from longdoc.agents.planner import PlannerAgent
from longdoc.llm.fake import FakeModel, request_text


def plan_for(model, instruction="Write an article about coral reefs.", words=1400, **kw) -> Plan:
    return asyncio.run(PlannerAgent(model, **kw).aplan(instruction, words))


def planned(rendering: str, first: int, text: str) -> str:
    """A plan reply that starts at paragraph `first`: a base model continues the prompt's
    cue ("Paragraph N - Main Point:"), a chat model writes the whole line."""
    return text if rendering == "completion" else f"Paragraph {first} - Main Point:{text}"


def test_parses_the_reference_format():
    text = (
        "Paragraph 1 - Main Point: Introduce coral reefs and where they grow. - Word Count: 300 words\n"
        "Paragraph 2 - Main Point: Explain how corals and algae live together. - Word Count: 400 words\n"
    )
    lines = parse_plan_lines(text)
    assert [(line.main_point, line.words) for line in lines] == [
        ("Introduce coral reefs and where they grow.", 300),
        ("Explain how corals and algae live together.", 400),
    ]


def test_extra_prose_renumbering_duplicates_and_missing_budgets():
    text = (
        "Sure! Here is a plan for your article:\n\n"
        "**Paragraph 3** - Main Point: Introduce coral reefs. - Word Count: 1,200 words\n"
        "5. Explain the symbiosis of coral and algae (about 300 words)\n"
        "Paragraph 7 - Main Point: introduce coral reefs - Word Count: 200 words\n"
        "- Main Point: Describe threats such as bleaching and overfishing\n"
        "Paragraph 8 - Main Point: ok\n"
        "I hope this helps. Let me know if you need anything else.\n"
        "1. A second plan starts here and must be ignored\n"
    )
    lines = parse_plan_lines(text)
    assert [line.main_point for line in lines] == [
        "Introduce coral reefs.",
        "Explain the symbiosis of coral and algae",
        "Describe threats such as bleaching and overfishing",
    ]
    assert [line.words for line in lines] == [1200, 300, None]


def test_budgets_are_rescaled_to_sum_to_the_target_exactly():
    budgets = balanced_budgets([300, None, 5000, 10], 2000)
    assert sum(budgets) == 2000
    # Odd proposals are clamped to half..twice the mean, so no section is starved or bloated.
    assert max(budgets) <= 2.1 * min(budgets) * 2
    assert sum(allocate_budgets([1, 1, 1], 100)) == 100


def test_plan_model_rejects_budgets_that_do_not_sum():
    with pytest.raises(ValidationError):
        Plan(
            instruction="x",
            target_words=1000,
            sections=(PlannedSection(main_point="a b", words=300), PlannedSection(main_point="c d", words=300)),
        )
    with pytest.raises(ValidationError):
        Plan(instruction="x", target_words=1000, sections=())


def test_a_clean_model_plan_is_kept_with_budgets_summing_to_target(rendering):
    model = FakeModel(
        [
            planned(rendering, 1, " Introduce coral reefs. - Word Count: 300 words\n")
            + "Paragraph 2 - Main Point: Explain coral biology. - Word Count: 400 words\n"
            "Paragraph 3 - Main Point: Describe reef threats. - Word Count: 500 words\n"
            "Paragraph 4 - Main Point: Conclude with conservation. - Word Count: 300 words\n"
        ]
    )
    plan = plan_for(model)
    assert plan.source == "model"
    assert plan.sections[0].main_point == "Introduce coral reefs."
    assert len(plan.sections) == section_count(1400) == 4
    assert plan.total_words == 1400


def test_an_incomplete_plan_is_re_asked_for_the_missing_sections(rendering):
    model = FakeModel(
        [
            planned(rendering, 1, " Introduce coral reefs. - Word Count: 300 words\n")
            + "Paragraph 2 - Main Point: Explain coral biology. - Word Count: 400 words\n",
            planned(rendering, 3, " Describe reef threats. - Word Count: 300 words\n")
            + "Paragraph 4 - Main Point: Conclude with conservation. - Word Count: 300 words\n",
        ]
    )
    plan = plan_for(model)
    assert len(model.history) == 2
    # The re-ask shows what is planned already and asks for (a base model: cues) the next lines.
    if rendering == "completion":
        assert request_text(model.history[1]).rstrip().endswith("Paragraph 3 - Main Point:")
    else:
        assert "Give the lines for paragraphs 3 to 4 only." in model.sent(model.history[1])
    assert "Explain coral biology." in model.sent(model.history[1])
    assert [s.main_point for s in plan.sections] == [
        "Introduce coral reefs.",
        "Explain coral biology.",
        "Describe reef threats.",
        "Conclude with conservation.",
    ]
    assert plan.source == "model"
    assert plan.total_words == 1400


def test_an_unusable_plan_is_derived_from_the_instruction_and_says_so():
    model = FakeModel(rule=lambda req: " the the the the\n\n")
    plan = plan_for(model, instruction="Please write a 1400-word article about coral reefs.")
    assert plan.source == "derived"
    assert any("unusable" in note for note in plan.notes)
    assert len(plan.sections) == 4
    assert plan.total_words == 1400
    assert all("coral reefs" in s.main_point for s in plan.sections)
    assert len(model.history) == 3  # first call + PLAN_RETRIES re-asks


def test_a_half_plan_is_completed_and_marked_repaired(rendering):
    model = FakeModel(
        [planned(rendering, 1, " Introduce coral reefs. - Word Count: 350 words\nParagraph 2 - Main Point: Explain coral biology.\n")],
        rule=lambda req: "\n\n",
    )
    plan = plan_for(model, words=1400)
    assert plan.source == "repaired"
    assert [s.main_point for s in plan.sections[:2]] == ["Introduce coral reefs.", "Explain coral biology."]
    assert any("2 of 4" in note for note in plan.notes)
    assert len(plan.sections) == 4
    assert plan.total_words == 1400


def test_thirty_thousand_words_are_planned_hierarchically():
    calls = itertools.count(1)

    def rule(request):
        call = next(calls)  # each planning call names its points apart from the others'
        text = request_text(request)
        first = int(text.rsplit("Paragraph ", 1)[1].split()[0])
        count = int(text.rsplit("Plan (", 1)[1].split()[0])
        part = "part" if "Part to plan:" in text else "piece"
        return "".join(
            f"{'' if n == first else f'Paragraph {n} - Main Point:'} Point {n} of the {part} "
            f"{call}. - Word Count: 300 words\n"
            for n in range(first, count + 1)
        )

    model = FakeModel(rule=rule)
    plan = plan_for(model, instruction="Write a 30000-word history of the city of Lyon.", words=30_000)
    assert len(plan.sections) == section_count(30_000) == 86
    assert plan.total_words == 30_000
    assert any("hierarchically" in note for note in plan.notes)
    assert len({s.main_point for s in plan.sections}) == 86
    # No planning call asked the model for more lines than one batch.
    assert all(int(request_text(r).rsplit("Plan (", 1)[1].split()[0]) <= 10 for r in model.history)


def test_section_count_scales_with_length():
    assert section_count(100) == 1
    assert section_count(600) == 2
    assert section_count(10_000) < section_count(20_000) < section_count(30_000)


def test_topic_of_cuts_the_request_and_length_phrases():
    assert topic_of("Please write a 1400-word article about coral reefs.") == "coral reefs"
    assert topic_of("Write a blog post on remote work in about 800 words") == "remote work"
    assert topic_of("Write about coral reefs.") == "coral reefs"


def test_a_plan_is_asked_as_json_where_the_backend_follows_a_schema(rendering):
    reply = (
        '{"paragraphs": [{"main_point": "Introduction", "words": 300}, '
        '{"main_point": "Explain coral biology.", "words": 400}, '
        '{"main_point": "Describe reef threats.", "words": 400}, '
        '{"main_point": "Conclude with conservation.", "words": 300}]}'
    )
    model = FakeModel([reply], structured_output=True)
    plan = asyncio.run(PlannerAgent(model, structured=True).aplan("Write an article about coral reefs.", 1400))
    assert [s.main_point for s in plan.sections][:2] == ["Introduction", "Explain coral biology."]
    assert plan.source == "model" and plan.total_words == 1400
    request = model.history[0]
    assert request.json_schema is not None and request.json_schema["required"] == ["paragraphs"]
    assert request.stop == ()


def test_a_json_plan_that_is_not_json_falls_back_to_the_prose_parser():
    model = FakeModel(
        ["Paragraph 1 - Main Point: Introduce coral reefs. - Word Count: 300 words\n"
         "Paragraph 2 - Main Point: Explain coral biology. - Word Count: 400 words\n"
         "Paragraph 3 - Main Point: Describe reef threats. - Word Count: 400 words\n"
         "Paragraph 4 - Main Point: Conclude with conservation. - Word Count: 300 words\n"],
        structured_output=True,
    )
    plan = asyncio.run(PlannerAgent(model, structured=True).aplan("Write an article about coral reefs.", 1400))
    assert plan.source == "model" and len(plan.sections) == 4


def test_a_chat_profile_asks_for_json_only_from_a_backend_that_follows_schemas(rendering):
    assert PlannerAgent(FakeModel(structured_output=True)).structured == (rendering == "chat")
    assert not PlannerAgent(FakeModel(structured_output=False)).structured
