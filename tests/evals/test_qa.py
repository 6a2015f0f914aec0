"""The QA harness: loaders, strategies scored side by side, resuming, documents too long."""

from __future__ import annotations

import json

import pytest

from longdoc.config import Settings
from longdoc.errors import ContextLengthExceeded, InputFormatError
from longdoc.evals.qa import QARow, read_rows, run_qa, summarize_rows
from longdoc.evals.qa_data import load_qa
from longdoc.llm.fake import FakeModel, request_text

FILLER = "The council discussed roads, parks and the harbour at length that year. " * 12
NEEDLE = "The keeper of the lighthouse was named Oswin Tarrant."
DOCUMENT = "\n\n".join([FILLER] * 12 + [NEEDLE] + [FILLER] * 2)
CHOICE_QUESTION = "Who kept the lighthouse?\n\n (A) The mayor. \n (B) Oswin Tarrant. \n (C) Nobody. \n (D) A council clerk. "


def write_leval(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def test_leval_lines_become_one_item_per_question(tmp_path):
    path = write_leval(
        tmp_path / "leval.jsonl",
        [
            {"input": "doc one", "instructions": ["q1", "q2"], "outputs": ["a1", "a2"], "evaluation": "f1"},
            {"input": "doc two", "instructions": ["q3"], "outputs": ["a3"], "evaluation": "exam"},
        ],
    )
    items = load_qa(path)
    assert [(i.id, i.question, i.answers, i.metric) for i in items] == [
        ("1.0", "q1", ("a1",), "f1"),
        ("1.1", "q2", ("a2",), "f1"),
        ("2.0", "q3", ("a3",), "exam"),
    ]
    assert items[0].context == items[1].context == "doc one"
    assert items[0].document_id == items[1].document_id != items[2].document_id
    assert [i.id for i in load_qa(path, limit=2)] == ["1.0", "1.1"]


def test_simple_lines_take_one_or_many_answers(tmp_path):
    path = write_leval(
        tmp_path / "simple.jsonl",
        [
            {"context": "c", "question": "q?", "answers": ["x", "y"], "id": "first"},
            {"context": "c2", "question": "q2?", "answers": "z"},
        ],
    )
    items = load_qa(path)
    assert [(i.id, i.answers) for i in items] == [("first", ("x", "y")), ("2", ("z",))]


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("{not json", "not JSON"),
        (json.dumps({"input": "d", "instructions": ["q"], "outputs": []}), "1 instructions but 0 outputs"),
        (json.dumps({"context": "c", "question": "q"}), "missing answers"),
    ],
)
def test_malformed_lines_are_reported_with_their_number(tmp_path, line, message):
    path = tmp_path / "bad.jsonl"
    path.write_text(json.dumps({"context": "c", "question": "q", "answers": "a"}) + "\n" + line + "\n", encoding="utf-8")
    with pytest.raises(InputFormatError, match=message) as caught:
        load_qa(path)
    assert caught.value.line == 2


def knows_only_what_it_reads(request) -> str:
    """A reader that answers right exactly when the needle is in its prompt."""
    text = request_text(request)
    if "Oswin Tarrant" in text.split("Question:")[0]:
        return "(B) Oswin Tarrant" if "(B)" in text else "Oswin Tarrant"
    return "(A) The mayor" if "(A)" in text else "the harbour master"


@pytest.fixture
def dataset(tmp_path):
    return write_leval(
        tmp_path / "lighthouse.jsonl",
        [{"input": DOCUMENT, "instructions": ["Who kept the lighthouse?", CHOICE_QUESTION],
          "outputs": ["Oswin Tarrant", "(B) Oswin Tarrant."], "evaluation": "f1"}],
    )


def test_strategies_are_scored_against_known_answers(tmp_path, dataset):
    model = FakeModel(rule=knows_only_what_it_reads, context_window=1024)
    settings = Settings(model="fake", window=1024, cache_dir=tmp_path / "cache")
    rows = run_qa(load_qa(dataset), ["truncate", "xl3m"], model, settings=settings, window=1024, scorer="lexical")
    by = {(r.id, r.strategy): r for r in rows}
    # truncate reads the document's start only: the needle near the end never fits
    short, choice = by[("1.0", "truncate")], by[("1.1", "truncate")]
    assert (short.exact_match, short.f1, short.evidence_recall) == (0.0, 0.0, 0.0)
    assert short.kept_fraction is not None and short.kept_fraction < 0.7
    assert choice.accuracy == 0.0 and choice.exact_match is None and choice.f1 is None
    # xl3m selects the needle's segment and answers from it
    short, choice = by[("1.0", "xl3m")], by[("1.1", "xl3m")]
    assert (short.exact_match, short.f1, short.evidence_recall) == (1.0, 1.0, 1.0)
    assert choice.accuracy == 1.0
    summary = summarize_rows(rows, ["truncate", "xl3m"])
    assert summary["xl3m"].exact_match == 1.0 and summary["xl3m"].accuracy == 1.0
    assert summary["truncate"].exact_match == 0.0 and summary["truncate"].accuracy == 0.0
    assert summary["truncate"].calls == 2 and summary["xl3m"].calls == 2  # lexical: answer calls only
    assert summary["xl3m"].answered == summary["xl3m"].questions == 2


def test_a_rerun_resumes_from_the_rows_file(tmp_path, dataset):
    out = tmp_path / "rows.jsonl"
    settings = Settings(model="fake", window=1024, cache_dir=tmp_path / "cache")
    items = load_qa(dataset)
    first = run_qa(items[:1], ["truncate"], FakeModel(rule=knows_only_what_it_reads), settings=settings, window=1024, out=out)
    with out.open("a", encoding="utf-8") as handle:
        handle.write('{"id": "torn')  # a run killed mid-write

    def must_not_be_called(request):
        raise AssertionError("a finished row was recomputed")

    model = FakeModel(rule=knows_only_what_it_reads)
    again = run_qa(items, ["truncate"], model, settings=settings, window=1024, out=out)
    assert again[0] == first[0]
    assert len(model.history) == 1  # only the second question was asked
    assert [r.id for r in read_rows(out)] == ["1.0", "1.1"]
    assert out.read_text(encoding="utf-8").endswith("}\n")
    run_qa(items, ["truncate"], FakeModel(rule=must_not_be_called), settings=settings, window=1024, out=out)


class ShortWindowModel(FakeModel):
    """Refuses prompts longer than its window, as a real server does."""

    def complete(self, request):
        if len(request_text(request).split()) > 300:
            raise ContextLengthExceeded("too long", prompt_tokens=999, window=300)
        return super().complete(request)


def test_a_document_too_long_for_a_strategy_is_reported(tmp_path, dataset):
    settings = Settings(model="fake", window=4096, cache_dir=tmp_path / "cache")
    rows = run_qa(load_qa(dataset, limit=1), ["truncate"], ShortWindowModel(), settings=settings, window=4096)
    assert rows[0].status == "too_long" and "too long" in (rows[0].error or "")
    assert rows[0].exact_match is None
    summary = summarize_rows(rows, ["truncate"])["truncate"]
    assert (summary.too_long, summary.answered, summary.exact_match) == (1, 0, None)


def test_rows_round_trip_as_json(tmp_path, dataset):
    model = FakeModel(rule=knows_only_what_it_reads)
    settings = Settings(model="fake", window=1024, cache_dir=tmp_path / "cache")
    row = run_qa(load_qa(dataset, limit=1), ["truncate"], model, settings=settings, window=1024)[0]
    assert QARow.model_validate_json(row.model_dump_json()) == row
