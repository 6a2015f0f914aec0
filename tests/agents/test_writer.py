"""The writer controls length (continue short, trim long), repairs loops and bounds context."""

import asyncio
import itertools
import random
import re

import pytest

from longdoc.agents.length import count_words
from longdoc.agents.plan import Plan, PlannedSection
from longdoc.agents.section_pieces import CONTINUATION_OPENERS
from longdoc.agents.writer import WriterAgent
from longdoc.agents.writing_context import text_so_far
from longdoc.errors import PipelineError
from longdoc.llm.fake import FakeModel, request_text
from longdoc.tokens import count_tokens

VOCAB = tuple(
    ["river", "stone", "valley", "harbor", "lantern", "orchard", "meadow", "copper", "signal", "winter", "bridge", "market", "cedar", "falcon", "garden", "island", "mirror", "quarry", "saddle", "timber", "violet", "walnut", "yonder", "amber", "beacon", "canyon", "delta", "ember", "fable", "glacier", "hollow", "inlet", "jasper", "kettle", "ledger", "marble", "nectar", "oyster", "pepper", "quiver", "rafter", "summit", "thistle", "umber", "vessel", "willow"]
)


def prose(words: int, seed: int) -> str:
    rng = random.Random(seed)
    sentences, total = [], 0
    while total < words:
        n = min(9, max(1, words - total))
        sentences.append(" ".join(rng.choice(VOCAB) for _ in range(n)).capitalize() + ".")
        total += n
    return " ".join(sentences)


def budget_of(request) -> int:
    return int(re.findall(r"about (\d+) words\):", request_text(request))[-1])


def scaled_writer(share: float):
    """A fake that writes `share` of the asked budget, in fresh sentences every call."""
    seeds = itertools.count(1)
    return FakeModel(rule=lambda req: prose(max(1, int(budget_of(req) * share)), next(seeds)))


def make_plan(*budgets: int) -> Plan:
    return Plan(
        instruction="Write about the river valley.",
        target_words=sum(budgets),
        sections=tuple(PlannedSection(main_point=f"Point number {i + 1}", words=b) for i, b in enumerate(budgets)),
    )


def test_a_short_section_is_continued_until_it_reaches_its_budget(rendering):
    model = scaled_writer(0.3)
    draft = asyncio.run(WriterAgent(model).awrite(make_plan(400, 400), 0, []))
    assert draft.words >= 0.95 * 400  # near the budget, not 70% of it
    assert draft.continuations >= 2
    # A continuation shows the section so far at the end of the prompt, to be continued:
    # a base model after a paragraph opener (its first answer stopped by choice), a chat
    # model as it stands, with no words put in its mouth.
    first_piece = prose(120, 1)
    if rendering == "completion":
        assert request_text(model.history[1]).endswith(first_piece + "\n\nMoreover,")
    else:
        assert model.sent(model.history[1]).rstrip().endswith(first_piece)
        assert not any(o in draft.text for o in CONTINUATION_OPENERS)


def test_a_far_too_long_section_is_trimmed_at_a_sentence_end():
    draft = asyncio.run(WriterAgent(scaled_writer(2.5)).awrite(make_plan(200, 200), 1, ["Earlier text."]))
    assert draft.trimmed
    assert draft.words <= 1.1 * 200
    assert draft.text.endswith(".")


def test_a_repetition_loop_is_repaired_and_not_counted_as_progress():
    loop = "The river runs down the valley to the sea. " * 40
    model = FakeModel([loop], rule=lambda req: prose(budget_of(req), 7))
    draft = asyncio.run(WriterAgent(model).awrite(make_plan(300, 300), 0, []))
    assert draft.repaired
    assert draft.text.count("The river runs down the valley to the sea.") == 1
    assert draft.words >= 0.7 * 300


def test_a_model_that_writes_nothing_raises_and_leaks_no_text():
    model = FakeModel(rule=lambda req: "")
    with pytest.raises(PipelineError) as info:
        asyncio.run(WriterAgent(model).awrite(make_plan(300), 0, []))
    assert info.value.stage == "write"
    assert len(model.history) == 5  # first call and MAX_STALLS stalled retries, then it gives up
    if model.completion_style:  # a base model's retries of an empty section start with openers
        assert request_text(model.history[1]).endswith("words):\nMoreover,")
    else:  # a chat model is asked again, with nothing put in its mouth
        assert not any(o in model.sent(r) for r in model.history for o in CONTINUATION_OPENERS)


def test_an_optional_section_left_empty_comes_back_empty():
    draft = asyncio.run(WriterAgent(FakeModel(rule=lambda req: "")).awrite(make_plan(300), 0, [], required=False))
    assert draft.words == 0
    assert draft.text == ""


def test_text_so_far_is_verbatim_while_it_fits_then_summary_plus_recent():
    plan = make_plan(*([300] * 8))
    written = [prose(300, seed) for seed in range(7)]
    completion, _ = text_so_far(plan, written, 100_000)
    assert all(w in completion for w in written)
    completion, _ = text_so_far(plan, written, 1200)
    assert count_tokens(completion) <= 1200
    assert "Summary of the earlier sections" in completion
    assert written[-1] in completion  # the last section stays verbatim
    assert written[0] not in completion


def test_prompts_stay_inside_a_small_window():
    model = scaled_writer(1.0)
    plan = make_plan(*([300] * 10))
    written = [prose(300, seed) for seed in range(9)]
    writer = WriterAgent(model, window=2048)
    draft = asyncio.run(writer.awrite(plan, 9, written))
    assert draft.words > 0
    for request in model.history:
        assert count_tokens(request_text(request)) + request.max_tokens <= 2048


def test_chat_rendering_marks_the_current_section_in_the_plan():
    model = FakeModel(rule=lambda req: prose(300, 3), completion_style=False)
    asyncio.run(WriterAgent(model).awrite(make_plan(300, 300, 300), 1, [prose(300, 1)]))
    user = model.history[0].messages[-1].content
    assert "-> 2. Point number 2" in user
    assert "   1. Point number 1" in user
    assert count_words(user) > 300  # the text so far is there


def test_an_empty_response_counts_as_a_stall_not_a_failure():
    from longdoc.errors import EmptyResponse

    replies = iter([EmptyResponse("no text", model="m"), None])

    def rule(request):
        reply = next(replies, None)
        if isinstance(reply, Exception):
            raise reply
        return prose(budget_of(request), 11)

    draft = asyncio.run(WriterAgent(FakeModel(rule=rule)).awrite(make_plan(300), 0, []))
    assert draft.words >= 0.7 * 300
    assert draft.calls == 2


def test_a_stalled_section_is_reopened_with_a_connective(rendering):
    first = prose(60, 21)
    replies = iter([first, "", " the valley keeps its copper signal for the winter market. " + prose(200, 22)])
    model = FakeModel(rule=lambda request: next(replies, ""))
    draft = asyncio.run(WriterAgent(model).awrite(make_plan(300), 0, []))
    if rendering == "chat":  # a chat model's continuation is joined as written, no connective
        assert not any(o in draft.text for o in CONTINUATION_OPENERS)
        assert first + " the valley keeps its copper signal" in draft.text
        return
    # The first call stopped by choice, so the next ones were cued with paragraph openers;
    # the opener that got an answer stays in the text.
    assert request_text(model.history[1]).endswith(first + "\n\nMoreover,")
    assert request_text(model.history[2]).endswith(first + "\n\nFor example,")
    assert "\n\nFor example, the valley keeps" in draft.text
    assert draft.words >= 0.7 * 300


def test_echoed_plan_lines_are_not_counted_as_text(rendering):
    echo = "   2. Describe the characteristics of a good cactus. (about 50 words)\n"
    replies = iter([echo + prose(250, 31)])
    model = FakeModel(rule=lambda request: next(replies, prose(100, 32)))
    draft = asyncio.run(WriterAgent(model).awrite(make_plan(300), 0, []))
    if rendering == "chat":  # echo cutting is a base-model guard: a chat model's list stays
        assert draft.text.startswith("2. Describe the characteristics of a good cactus.")
        return
    assert "characteristics of a good cactus" not in draft.text
    assert "words)" not in draft.text


def test_a_section_is_continued_to_its_budget_in_many_small_pieces():
    # A base model that adds one short paragraph a call (as Gemma 270M does) still gets the
    # section to its budget: the allowance of continuations grows with the budget.
    seeds = itertools.count(40)
    model = FakeModel(rule=lambda req: prose(30, next(seeds)))
    draft = asyncio.run(WriterAgent(model).awrite(make_plan(600, 300), 0, []))
    assert 0.95 * 600 <= draft.words <= 1.25 * 600
    assert draft.continuations >= 15


def test_stalls_are_retried_with_fresh_openers_and_progress_resets_the_count():
    # Stall, write, stall, stall, write, ...: never MAX_STALLS in a row, so the writer keeps
    # going to the budget; every reopening uses an opener the section has not used.
    pattern = itertools.cycle(["", "write", "", "", "write"])
    seeds = itertools.count(60)
    model = FakeModel(rule=lambda req: prose(40, next(seeds)) if next(pattern) == "write" else "")
    draft = asyncio.run(WriterAgent(model).awrite(make_plan(300), 0, []))
    assert draft.words >= 0.95 * 300
    openers = [o for o in CONTINUATION_OPENERS if "\n\n" + o in draft.text]
    assert all(draft.text.count("\n\n" + o) == 1 for o in openers)
    cues = [request_text(r).rsplit("\n\n", 1)[-1] for r in model.history[1:]]
    assert len(set(cues)) > 3  # the retries were not all cued the same way


def test_a_model_that_only_repeats_itself_adds_no_repeated_text():
    paragraph = prose(60, 70)
    model = FakeModel(rule=lambda req: paragraph)
    draft = asyncio.run(WriterAgent(model).awrite(make_plan(400), 0, []))
    sentences = [s for s in re.split(r"(?<=\.)\s+", draft.text) if len(s.split()) >= 4]
    # each sentence of the paragraph once, and no bare openers standing in for text
    assert len(sentences) == len(set(s.split(",", 1)[-1].strip().lower() for s in sentences))
    assert draft.words < 0.95 * 400  # the writer gave up instead of padding
    assert all(not draft.text.rstrip().endswith(o) for o in CONTINUATION_OPENERS)
    assert len(model.history) <= 1 + 4 + 1  # first call, then MAX_STALLS stalls in a row


def test_a_cued_paragraph_with_no_finished_sentence_is_dropped():
    first = prose(200, 80)
    replies = iter([first, " the third", prose(150, 81)])
    model = FakeModel(rule=lambda request: next(replies, ""))
    draft = asyncio.run(WriterAgent(model).awrite(make_plan(300), 0, []))
    assert "the third" not in draft.text
    assert "Moreover, the third" not in draft.text
    assert draft.words >= 0.95 * 300


def test_a_half_sentence_the_model_stopped_in_is_not_kept():
    first = prose(100, 90) + " And then the keepers of the harbor lantern went down to the"
    model = FakeModel([first], rule=lambda req: prose(250, 91))
    draft = asyncio.run(WriterAgent(model).awrite(make_plan(300), 0, []))
    assert "went down to the" not in draft.text
    assert draft.text.rstrip().endswith(".")


def test_a_section_that_outgrows_the_window_keeps_what_it_has():
    from longdoc.errors import ContextLengthExceeded

    calls = itertools.count()

    def rule(request):
        if next(calls) >= 2:
            raise ContextLengthExceeded("prompt too long", model="m", prompt_tokens=9000, window=8192)
        return prose(80, 95)

    draft = asyncio.run(WriterAgent(FakeModel(rule=rule)).awrite(make_plan(400), 0, []))
    assert draft.words >= 80


def test_a_section_growing_in_numbers_not_words_stops_being_continued():
    table = "\n".join(f"| {i} | {i * 7} | {i * 13} | {i * 17} | {i * 19} |" for i in range(1000, 1040))
    seeds = itertools.count(200)
    model = FakeModel(rule=lambda req: table + "\n" + prose(5, next(seeds)) + "\n")
    draft = asyncio.run(WriterAgent(model).awrite(make_plan(300), 0, []))
    assert draft.calls < 12
    assert len(draft.text.encode()) <= 18 * 300 + len(table) + 200
