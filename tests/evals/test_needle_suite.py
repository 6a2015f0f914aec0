"""The needle suite: loading (and refusing bad files), haystacks with several needles and
distractors, selection rows per scorer with shared calls, resuming from a rows file, the
summary; on the fake model."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from longdoc.config import Settings
from longdoc.errors import SourceError
from longdoc.evals.needles.cells import append_rows, holds_all, read_rows, select_cell, sentences_of
from longdoc.evals.needles.placement import build_suite_haystack, distractor_depths, needle_depths
from longdoc.evals.needles.shared_calls import Ledger, SharedCalls
from longdoc.evals.needles.suite import KINDS, SuiteNeedle, load_suite
from longdoc.evals.needles.summary import summarize
from longdoc.evals.needles.sweep import build_scorers, run_suite
from longdoc.llm.base import CompletionRequest
from longdoc.llm.fake import FakeModel
from longdoc.retrieval.lexical import terms

from ..conftest import RENDERINGS, use_rendering

SUITE = Path(__file__).resolve().parents[2] / "benchmarks" / "needles" / "suite"
ESSAYS = "".join(
    f"Essay sentence number {i} talks about startups, taste and cities, and why founders move. " for i in range(1500)
)


def item(**changes) -> dict:
    base = {
        "id": "vault", "kind": "multi",
        "needles": ["The first half of the code is ember.", "The second half of the code is 52."],
        "distractors": ["The first half of the bike lock code is maple."],
        "question": "What are the two halves of the code?", "answers": ["ember", ["52", "fifty-two"]],
    }
    return base | changes


def write_suite(folder: Path, *items: dict) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for n, data in enumerate(items):
        (folder / f"{n:02d}.json").write_text(json.dumps(data), encoding="utf-8")
    return folder


# --------------------------------------------------------------------------- loading


def test_the_shipped_suite_loads_with_every_kind_the_issue_asks_for():
    needles = load_suite(SUITE)
    kinds = [n.kind for n in needles]
    assert len(needles) >= 16
    assert len({n.id for n in needles}) == len(needles)
    assert set(kinds) == set(KINDS)
    assert kinds.count("paraphrase") >= 3 and kinds.count("distractor") >= 3 and kinds.count("multi") >= 2
    for n in needles:
        if n.kind == "paraphrase":  # BM25 has (almost) nothing to match on
            shared = set(terms(n.question)) & set(terms(" ".join(n.needles)))
            assert len(shared) <= 1, (n.id, shared)
        if n.kind == "distractor":
            assert n.distractors and not any(n.answered_by(d) for d in n.distractors)
        if n.kind == "multi":
            assert len(n.needles) == 2
        assert n.answered_by(" ".join(n.needles)), n.id  # the gold answers are in the needle


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"kind": "riddle"}, "kind"),
        ({"question": ""}, "question"),
        ({"needles": []}, "needles"),
        ({"answers": [""]}, "answers"),
        ({"id": "Has Spaces"}, "id"),
        ({"colour": "teal"}, "colour"),
    ],
)
def test_a_bad_needle_file_names_the_file_and_the_field(tmp_path, changes, field):
    folder = write_suite(tmp_path / "suite", item(), item(id="other") | changes)
    with pytest.raises(SourceError) as raised:
        load_suite(folder)
    assert "01.json" in str(raised.value) and repr(field)[1:-1] in str(raised.value)


def test_a_missing_field_invalid_json_duplicates_and_an_empty_folder_are_refused(tmp_path):
    data = item()
    del data["question"]
    with pytest.raises(SourceError, match=r"00\.json.*'question'"):
        load_suite(write_suite(tmp_path / "a", data))
    broken = write_suite(tmp_path / "b", item())
    (broken / "00.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(SourceError, match="not valid JSON"):
        load_suite(broken)
    with pytest.raises(SourceError, match=r"'id'.*also used by 00\.json"):
        load_suite(write_suite(tmp_path / "c", item(), item()))
    (tmp_path / "d").mkdir()
    with pytest.raises(SourceError, match="no needle files"):
        load_suite(tmp_path / "d")


def test_answers_need_every_part_and_any_alternative():
    needle = SuiteNeedle.model_validate(item())
    assert needle.answered_by("Ember, then FIFTY-TWO.")
    assert needle.answered_by("ember and 52")
    assert not needle.answered_by("only ember")


# --------------------------------------------------------------------------- haystacks


def test_needles_and_distractors_are_placed_apart_and_recorded():
    needle = SuiteNeedle.model_validate(item())
    stack = build_suite_haystack(ESSAYS, needle, tokens=3000, depth=25)
    assert abs(stack.tokens - 3000) <= 3
    assert stack.needle_depths == (25, 75.0)
    for (start, end), text in zip(stack.needle_spans, needle.needles, strict=True):
        assert stack.text[start:end] == text
    (start, end), = stack.distractor_spans
    assert stack.text[start:end] == needle.distractors[0]
    first, second = (s for s, _ in stack.needle_spans)
    assert first < start < second  # the distractor at 60% lies between 25% and 75%
    assert needle_depths(100, 2) == [100, 50.0] and distractor_depths(0, 2) == [35, 70]


def test_needles_at_both_ends():
    needle = SuiteNeedle.model_validate(item(needles=["Alpha is one."], distractors=[], answers=["one"]))
    assert build_suite_haystack(ESSAYS, needle, tokens=2000, depth=0).text.startswith(" Alpha is one.")
    assert build_suite_haystack(ESSAYS, needle, tokens=2000, depth=100).text.rstrip().endswith("Alpha is one.")
    with pytest.raises(SourceError):
        build_suite_haystack("too short", needle, tokens=2000, depth=0)


def test_holds_all_checks_every_sentence_of_every_needle():
    needles = ["Every autumn there is a race. The winner fills a basket.", "Second fact here."]
    assert sentences_of(needles[0]) == ["Every autumn there is a race.", "The winner fills a basket."]
    text = "notes: Every autumn  there is a race.\n[...] The winner fills a basket. And Second fact here."
    assert holds_all(text, needles)
    assert not holds_all(text.replace("Second", "Third"), needles)


# --------------------------------------------------------------------------- cells


def test_select_cell_rows_per_scorer_with_shared_calls_charged_to_each():
    needle = SuiteNeedle.model_validate(item())
    stack = build_suite_haystack(ESSAYS, needle, tokens=3000, depth=25)
    model = FakeModel()
    shared = SharedCalls(model)
    scorers = build_scorers(["lexical", "certainty", "answer", "calibrated", "fusion"], shared, 2)
    rows = asyncio.run(select_cell(
        needle, stack, scorers, shared, budget=1200, warm=["certainty", "calibrated", "answer"],
    ))
    by = {r.scorer: r for r in rows}
    assert list(by) == ["lexical", "certainty", "answer", "calibrated", "fusion"]
    segments = by["lexical"].segments
    assert segments and all(r.segments == segments for r in rows)
    assert by["lexical"].calls == 0 and by["lexical"].selected and by["lexical"].ranks[0] == 1
    assert all(len(r.ranks) == 2 and None not in r.ranks for r in rows)
    assert by["certainty"].calls == by["answer"].calls == segments
    assert by["calibrated"].calls == 2 * segments  # baseline + scored
    assert by["fusion"].calls == segments  # its certainty requests are `answer`'s
    # each distinct request went to the model once: certainty, answer, baseline per segment
    assert len(model.history) == shared.sent == 3 * segments


def test_shared_calls_send_a_request_once_and_charge_every_ledger():
    model = FakeModel(["one"])
    shared = SharedCalls(model)
    request = CompletionRequest.from_text("Question: q?\nAnswer:", max_tokens=4)
    first, second = Ledger(), Ledger()
    first.charged(lambda: shared.complete(request))

    async def both():
        return await asyncio.gather(second.charging(shared.acomplete(request)), shared.acomplete(request))

    replies = asyncio.run(both())
    assert [r.text for r in replies] == ["one", "one"]
    assert len(model.history) == 1
    assert first.calls == second.calls == 1 and second.seconds == first.seconds
    shared.forget()
    shared.complete(request)
    assert len(model.history) == 2


@pytest.mark.parametrize("rendering", RENDERINGS)
def test_run_suite_writes_rows_and_resumes_without_calling_again(tmp_path, monkeypatch, rendering):
    use_rendering(rendering, monkeypatch)
    suite = write_suite(
        tmp_path / "suite", item(),
        item(id="teal", kind="one-word", needles=["The door is painted teal."], distractors=[],
             question="What colour is the door painted?", answers=["teal"]),
    )
    needles = load_suite(suite)
    rows_path = tmp_path / "rows.jsonl"
    settings = Settings(model="fake", concurrency=2)
    model = FakeModel()
    options = dict(lengths=[2000], depths=[0, 100], scorers=["lexical", "answer"], model=model, settings=settings,
                   window=1024, answer_scorers=["lexical"], chain=True, rows_path=rows_path)
    rows = run_suite(needles, ESSAYS, **options)
    assert len(rows) == 2 * 2 * (2 + 1 + 1)
    assert len(read_rows(rows_path)) == len(rows)
    assert {(r.strategy, r.scorer) for r in rows} == {
        ("select", "lexical"), ("select", "answer"), ("xl3m", "lexical"), ("chain", None)}
    assert all(r.answered is not None for r in rows if r.strategy != "select")
    assert all(r.answered is None for r in rows if r.strategy == "select")
    calls = len(model.history)
    again = run_suite(needles, ESSAYS, **options)
    assert len(model.history) == calls  # every cell was in the rows file
    assert len(again) == len(rows)
    more = run_suite(needles, ESSAYS, **(options | {"depths": [0, 50, 100]}))
    assert len(more) == len(rows) + 2 * 4  # only depth 50 was new


def test_rows_file_errors_name_the_line(tmp_path):
    path = tmp_path / "rows.jsonl"
    path.write_text('{"needle": "x"}\n', encoding="utf-8")
    with pytest.raises(SourceError, match="line 1"):
        read_rows(path)


def test_summary_per_scorer_and_kind(tmp_path):
    from longdoc.evals.needles.cells import SuiteRow

    def row(needle, kind, scorer, selected, ranks, strategy="select", answered=None):
        return SuiteRow(needle=needle, kind=kind, tokens=4000, depth=50, strategy=strategy, scorer=scorer,
                        selected=selected, ranks=ranks, answered=answered, calls=2, seconds=1.0)

    rows = [
        row("a", "paraphrase", "lexical", False, [7]), row("b", "name", "lexical", True, [1]),
        row("a", "paraphrase", "answer", True, [2]), row("b", "name", "answer", True, [1]),
        row("b", "name", "answer", True, [1], strategy="xl3m", answered=True),
        row("a", "paraphrase", None, True, [], strategy="chain", answered=False),
    ]
    path = tmp_path / "rows.jsonl"
    append_rows(path, rows)
    summary = {s.name: s for s in summarize(read_rows(path), kinds=KINDS)}
    assert set(summary) == {"answer", "chain", "lexical"}
    assert (summary["lexical"].selected, summary["lexical"].cells) == (1, 2)
    assert summary["lexical"].by_kind == {"name": (1, 1), "paraphrase": (0, 1)}
    assert summary["lexical"].mean_rank == 4.0
    assert summary["answer"].cells == 2  # the xl3m row's selection is not counted twice
    assert (summary["answer"].answered, summary["answer"].answer_cells) == (1, 1)
    assert (summary["chain"].selected, summary["chain"].answered, summary["chain"].answer_cells) == (1, 0, 1)


def test_a_fusion_recomputed_from_rows_matches_the_fusion_scorer():
    from longdoc.evals.needles.refusion import fused_row

    needle = SuiteNeedle.model_validate(item())
    stack = build_suite_haystack(ESSAYS, needle, tokens=3000, depth=50)
    shared = SharedCalls(FakeModel())
    scorers = build_scorers(["lexical", "answer", "fusion=lexical+answer"], shared, 2)
    rows = {r.scorer: r for r in asyncio.run(select_cell(needle, stack, scorers, shared, budget=800))}
    assert rows["lexical"].scores and rows["lexical"].holding and rows["fusion=lexical+answer"].scores is None
    again = fused_row([rows["lexical"], rows["answer"]], k=60, budget=800, name="fusion=lexical+answer")
    assert (again.selected, again.ranks) == (rows["fusion=lexical+answer"].selected, rows["fusion=lexical+answer"].ranks)
    assert again.calls == rows["answer"].calls
