"""AgentWrite end to end: plan, write, assemble; checkpoints; resume; failures."""

import itertools
import json
import os
import random
import re

import pytest

from longdoc.agents.length import count_words
from longdoc.errors import ModelError
from longdoc.llm.fake import FakeModel, request_text
from longdoc.pipelines.agent_write import write

VOCAB = tuple(
    ["river", "stone", "valley", "harbor", "lantern", "orchard", "meadow", "copper", "signal", "winter", "bridge", "market", "cedar", "falcon", "garden", "island", "mirror", "quarry", "saddle", "timber", "violet", "walnut", "yonder", "amber", "beacon", "canyon", "delta", "ember", "fable", "glacier", "hollow", "inlet", "jasper", "kettle", "ledger", "marble"]
)


def prose(words: int, seed: int) -> str:
    rng = random.Random(seed)
    sentences, total = [], 0
    while total < words:
        n = min(9, max(1, words - total))
        sentences.append(" ".join(rng.choice(VOCAB) for _ in range(n)).capitalize() + ".")
        total += n
    return " ".join(sentences)


def is_plan_request(request) -> bool:
    return request_text(request).rstrip().endswith("Main Point:")


def section_number(request) -> int:
    return int(re.findall(r"Section (\d+) of \d+ - ", request_text(request))[-1])


class Author:
    """A fake model that plans sensibly and writes `share` of each section's budget."""

    def __init__(self, share: float = 0.9, fail_at_section: int | None = None):
        self.share = share
        self.fail_at_section = fail_at_section
        self.seeds = itertools.count(100)
        # On the chat rendering (tests/conftest.py sets the profile) it writes whole plan
        # lines, as a chat model does; a base model continues the prompt's cue.
        self.chat = os.environ.get("LONGDOC_PROFILE") == "instruct"

    def __call__(self, request) -> str:
        text = request_text(request)
        if is_plan_request(request):
            first = int(text.rsplit("Paragraph ", 1)[1].split()[0])
            count = int(text.rsplit("Plan (", 1)[1].split()[0])
            return "".join(
                f"{'' if n == first and not self.chat else f'Paragraph {n} - Main Point:'} Describe aspect {n} of the valley. "
                f"- Word Count: 300 words\n"
                for n in range(first, count + 1)
            )
        if self.fail_at_section is not None and section_number(request) == self.fail_at_section:
            raise ModelError("server error 500 after retries", status=500, attempts=5)
        budget = int(re.findall(r"about (\d+) words\):", text)[-1])
        return prose(max(1, int(budget * self.share)), next(self.seeds))


def test_write_lands_near_the_target_and_reports_the_contract(tmp_path):
    result = write("Write about a river valley.", 1500, model=FakeModel(rule=Author()), checkpoint=tmp_path / "c.db")
    assert abs(result.words - 1500) <= 0.1 * 1500
    assert result.words == count_words(result.text)
    assert len(result.sections) == len(result.plan.sections) == 4
    assert result.plan.total_words == 1500
    data = json.loads(json.dumps(result.to_json()))
    assert set(data) >= {"text", "words", "target_words", "length_score", "plan", "sections"}
    assert data["plan"][0] == {"main_point": "Describe aspect 1 of the valley.", "words": result.plan.sections[0].words}
    assert [s["words"] for s in data["sections"]] == [s.words for s in result.sections]
    assert data["length_score"] > 90


def test_short_writers_are_carried_to_the_target_by_continuations(tmp_path):
    result = write("Write about a river valley.", 1200, model=FakeModel(rule=Author(share=0.35)), checkpoint=tmp_path / "c.db")
    assert result.length_score >= 95
    assert result.words >= 0.95 * 1200
    assert all(s.continuations >= 1 for s in result.sections)


def test_carried_budget_moves_shortfall_and_surplus_forward():
    from longdoc.agents.plan import Plan, PlannedSection
    from longdoc.pipelines.agent_write import carried_budget

    plan = Plan(
        instruction="Write about a river valley.",
        target_words=1200,
        sections=tuple(PlannedSection(main_point=f"Point {i}", words=300) for i in range(4)),
    )
    assert carried_budget(plan, 0, []) == 300
    assert carried_budget(plan, 1, [240]) == 360  # 60 short: the next section takes it on
    assert carried_budget(plan, 1, [330]) == 270  # 30 over: the next section gives it back
    assert carried_budget(plan, 1, [0]) == 450  # a middle section moves by at most half
    assert carried_budget(plan, 3, [200, 200, 200]) == 600  # the last one by up to its budget


def test_a_short_first_section_is_made_up_by_later_ones(tmp_path):
    class ShortFirst(Author):
        """Writes 120 words of section 1, then nothing more for it (a stalled model)."""

        first_calls = 0

        def __call__(self, request):
            if not is_plan_request(request) and section_number(request) == 1:
                self.first_calls += 1
                return prose(120, next(self.seeds)) if self.first_calls == 1 else ""
            return super().__call__(request)

    model = FakeModel(rule=ShortFirst(share=1.0))
    result = write("Write about a river valley.", 1200, model=model, checkpoint=tmp_path / "c.db")
    first, second = result.sections[0], result.sections[1]
    assert first.words < 0.5 * first.budget  # section 1 gave up short ...
    assert second.budget > result.plan.sections[1].words  # ... and section 2 was asked for more
    assert abs(result.words - 1200) <= 0.1 * 1200


def test_a_section_the_model_leaves_empty_is_skipped_and_its_budget_carried(tmp_path):
    class SilentSecond(Author):
        def __call__(self, request):
            if not is_plan_request(request) and section_number(request) == 2:
                return ""
            return super().__call__(request)

    result = write("Write about a river valley.", 1200, model=FakeModel(rule=SilentSecond(share=1.0)), checkpoint=tmp_path / "c.db")
    assert result.sections[1].words == 0
    assert result.sections[2].budget > result.plan.sections[2].words
    assert "\n\n\n" not in result.text  # the empty section left no gap
    assert result.length_score >= 85


def test_a_model_that_writes_nothing_at_all_fails_the_write(tmp_path):
    from longdoc.errors import PipelineError

    class Mute(Author):
        def __call__(self, request):
            return super().__call__(request) if is_plan_request(request) else ""

    with pytest.raises(PipelineError):
        write("Write about a river valley.", 600, model=FakeModel(rule=Mute()), checkpoint=tmp_path / "c.db")


def test_an_interrupted_write_resumes_without_redoing_finished_sections(tmp_path):
    checkpoint = tmp_path / "c.db"
    crashing = FakeModel(rule=Author(fail_at_section=3))
    with pytest.raises(ModelError):
        write("Write about a river valley.", 1500, model=crashing, checkpoint=checkpoint)
    first_two = [
        r for r in crashing.history if not is_plan_request(r) and section_number(r) in (1, 2)
    ]
    assert first_two

    resumed_model = FakeModel(rule=Author())
    result = write("Write about a river valley.", 1500, model=resumed_model, checkpoint=checkpoint)
    assert result.resumed_sections == 2
    asked = [section_number(r) for r in resumed_model.history if not is_plan_request(r)]
    assert asked and min(asked) == 3  # sections 1 and 2 came from the checkpoint
    assert not any(is_plan_request(r) for r in resumed_model.history)  # neither did the plan
    assert len(result.sections) == 4
    assert "error" not in result.text.lower()

    # A finished write leaves no checkpoint behind: the same write starts afresh.
    again = FakeModel(rule=Author())
    write("Write about a river valley.", 1500, model=again, checkpoint=checkpoint)
    assert any(is_plan_request(r) for r in again.history)


def test_a_failing_model_raises_and_never_becomes_text(tmp_path):
    def broken(request):
        raise ModelError("upstream exploded", status=503, attempts=5)

    with pytest.raises(ModelError):
        write("Write about a river valley.", 600, model=FakeModel(rule=broken), checkpoint=tmp_path / "c.db")


def test_public_api_write_is_exported():
    import longdoc

    assert longdoc.write is write


def test_a_finished_write_whose_checkpoint_survived_is_returned_not_redone(tmp_path, monkeypatch):
    from longdoc.pipelines import agent_write

    checkpoint = tmp_path / "c.db"

    async def keep(self, thread_id):  # the process "dies" before deleting its checkpoint
        return None

    with monkeypatch.context() as patched:
        patched.setattr(agent_write.InlineSqliteSaver, "adelete_thread", keep)
        first = write("Write about a river valley.", 900, model=FakeModel(rule=Author()), checkpoint=checkpoint)
    again = FakeModel(rule=Author())
    second = write("Write about a river valley.", 900, model=again, checkpoint=checkpoint)
    assert again.history == []
    assert second.text == first.text
    assert second.resumed_sections == len(first.sections)


def test_a_checkpointed_plan_that_no_longer_validates_is_a_plan_error():
    from longdoc.errors import PlanError
    from longdoc.pipelines.agent_write import stored_plan

    good = {"instruction": "x", "target_words": 100, "sections": [{"main_point": "One point", "words": 100}]}
    assert stored_plan(good).target_words == 100
    with pytest.raises(PlanError, match="delete the checkpoint") as caught:
        stored_plan({**good, "sections": [{"main_point": "One point", "words": 10}]})
    assert caught.value.stage == "plan"
