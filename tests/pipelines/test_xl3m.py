"""The XL3M pipeline: select the key context, answer from it."""

from __future__ import annotations

import math

import pytest

from longdoc.config import DEFAULT_SCORER, Settings
from longdoc.documents import Document
from longdoc.errors import ConfigError
from longdoc.llm.fake import FakeModel
from longdoc.pipelines.xl3m import key_context_budget, plan_xl3m, xl3m
from longdoc.retrieval.scorers import make_scorer

FILLER = (
    "The committee met on a grey morning to discuss the budget for the coming year. "
    "Several members raised concerns about the cost of maintaining the old bridge. "
    "Others wanted more money spent on the library and its reading rooms. "
)
NEEDLE = "The secret passcode for the vault is 7341-orchid."
QUESTION = "What is the secret passcode for the vault?"


def write_haystack(tmp_path, paragraphs: int = 60, needle_at: int = 40) -> Document:
    parts = [FILLER.replace("committee", f"committee {i}") for i in range(paragraphs)]
    parts.insert(needle_at, NEEDLE)
    path = tmp_path / "minutes.txt"
    path.write_text("\n\n".join(parts), encoding="utf-8")
    return Document.from_text(path.read_text(encoding="utf-8"), path=str(path))


@pytest.mark.parametrize("scorer", ["lexical", "dense", DEFAULT_SCORER, "certainty", "hybrid"])
def test_xl3m_selects_the_needle_and_answers_from_it(tmp_path, scorer):
    doc = write_haystack(tmp_path)
    model = FakeModel(context_window=1024)
    result = xl3m([doc], QUESTION, model, make_scorer(scorer, model, candidates=4), segment_tokens=120)
    assert result.strategy == "xl3m"
    assert "7341-orchid" in result.answer
    assert result.segments is not None and len(result.segments) == result.chunks > 10
    kept = [s for s in result.segments if s.selected]
    assert 0 < len(kept) < len(result.segments)
    budget = key_context_budget(1024, QUESTION)
    assert sum(len(doc.text[s.start : s.end]) for s in kept) < len(doc.text)
    assert "7341-orchid" in result.notes[0]
    assert [(c.start, c.end) for c in result.citations] == [(s.start, s.end) for s in kept]
    assert all(c.source == str(tmp_path / "minutes.txt") for c in result.citations)
    # the manager read the key context, not the document
    answer_prompt = model.history[-1].prompt
    assert answer_prompt is not None and len(answer_prompt) < len(doc.text) / 2
    assert budget > 0
    scored = {
        "lexical": 0,
        "dense": 0,
        DEFAULT_SCORER: 0,
        "certainty": len(result.segments),
        "hybrid": sum(s.score < round(math.log(10), 6) for s in result.segments),  # BM25's shortlist only
    }[scorer]
    assert result.usage.calls == 1 + scored
    if scorer == "hybrid":
        assert 1 <= scored <= 4
    assert {"select_s", "answer_s", "total_s"} <= set(result.timings)


def test_the_default_scorer_plans_no_scoring_call(tmp_path):
    doc = write_haystack(tmp_path)
    plan = plan_xl3m([doc], QUESTION, DEFAULT_SCORER, window=1024, segment_tokens=120)
    assert plan.calls == 1 and plan.worker_output == 0 and plan.chunks > 10
    assert plan_xl3m([doc], QUESTION, "certainty", window=1024, segment_tokens=120).calls == plan.chunks + 1


def test_certainty_scores_the_needle_segment_lowest(tmp_path):
    doc = write_haystack(tmp_path, needle_at=10)
    model = FakeModel(context_window=1024)
    result = xl3m([doc], QUESTION, model, make_scorer("certainty", model), segment_tokens=120)
    best = min(result.segments, key=lambda s: s.score)
    assert "7341-orchid" in doc.text[best.start : best.end]
    assert best.selected


def test_selection_fits_the_budget_and_keeps_order(tmp_path):
    doc = write_haystack(tmp_path)
    model = FakeModel(context_window=4096)
    result = xl3m([doc], QUESTION, model, make_scorer("lexical"), budget=300, segment_tokens=100)
    kept = [s for s in result.segments if s.selected]
    assert [s.start for s in kept] == sorted(s.start for s in kept)
    from longdoc.tokens import count_tokens

    assert sum(count_tokens(doc.text[s.start : s.end]) for s in kept) <= 300


def test_a_window_too_small_for_any_key_context_is_refused():
    with pytest.raises(ConfigError, match="window"):
        key_context_budget(512, "a question " * 40)


@pytest.mark.model
def test_xl3m_on_the_embedded_model_finds_the_needle(tmp_path):
    from longdoc.llm import load_model

    doc = write_haystack(tmp_path, paragraphs=30, needle_at=20)
    settings = Settings(model="local", cache_dir=tmp_path / "cache", concurrency=2)
    model = load_model(settings)
    result = xl3m([doc], QUESTION, model, make_scorer("certainty", model, concurrency=2), budget=200)
    best = min(result.segments, key=lambda s: s.score)
    assert "7341-orchid" in doc.text[best.start : best.end]
    assert "7341-orchid" in result.notes[0]
    assert result.answer.strip()
