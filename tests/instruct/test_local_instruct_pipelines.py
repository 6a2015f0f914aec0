"""Every pipeline on the real embedded chat model (`local-instruct`), whose output nobody
scripted: what comes back is the model's reply as the call log recorded it, the profile is
`instruct`, grounding is reported (never imposed), citations point at real spans, and a
write's pieces are joined with the right whitespace. Inputs are small: one chain call or
two, a short write, one dataset row (the model reads ~120 prompt tokens/s on 2 cores)."""

from __future__ import annotations

import json
import sqlite3

import pytest

import longdoc
from longdoc.agents.length import count_words
from longdoc.config import Settings
from longdoc.documents import Document
from longdoc.llm import load_model
from longdoc.llm.factory import call_log

pytestmark = pytest.mark.model

STORY = (
    "The lighthouse on Skerry Point was built in 1871 by the engineer Thomas Arden. "
    "Its lamp burned whale oil until 1902, when paraffin replaced it. "
    "The keeper, Mary Quayle, kept a logbook of every ship that passed. "
    "In the great storm of 1894 she rowed out alone and saved eleven sailors from the brig Dauntless. "
    "The harbour town of Kilbrack paid for a bronze bell in her honour. "
    "Today the tower is a museum, and the logbook is kept in its top room.\n\n"
    "The village below the point lives from fishing and from visitors. "
    "Its bakery sells a honey cake that the keepers once ate on their night watches. "
    "A ferry crosses to the island of Inish twice a day in summer.\n"
)


@pytest.fixture
def settings(tmp_path) -> Settings:
    return Settings.from_env(model="local-instruct", cache_dir=tmp_path / "cache", window=4096, concurrency=2)


@pytest.fixture
def story(tmp_path) -> Document:
    path = tmp_path / "skerry.txt"
    path.write_text(STORY, encoding="utf-8")
    return Document.from_text(STORY, path=str(path))


def last_reply(settings: Settings) -> str:
    """The newest model reply the call log holds (the manager's, after a read)."""
    record = call_log(settings.cache_dir).recent(1)[0]
    assert record.text is not None
    return record.text


def assert_as_written(result, settings: Settings) -> None:
    """The answer is the model's logged reply, only stripped (no cutting, no replacement)."""
    logged = last_reply(settings)
    assert result.profile == "instruct"
    assert result.fallback is False
    assert isinstance(result.grounded, bool)
    assert result.raw_answer == logged
    assert result.answer == logged.strip()


def assert_real_spans(result, document: Document) -> None:
    for citation in result.citations:
        assert 0 <= citation.start < citation.end <= len(document.text)
    for quote in result.evidence:
        assert " ".join(document.text[quote.start : quote.end].split()) == quote.text


def test_the_backend_is_a_chat_model_on_the_instruct_profile(settings):
    model = load_model(settings)
    assert model.profile.name == "instruct" and not model.completion_style
    assert model.structured_output


@pytest.mark.parametrize("strategy", ["chain", "xl3m"])
def test_ask_returns_the_models_reply_as_written(settings, story, strategy):
    options = {"scorer": "lexical"} if strategy == "xl3m" else {}
    result = longdoc.ask(story, "Who saved eleven sailors, and in which year?", strategy=strategy,
                         settings=settings, **options)
    assert_as_written(result, settings)
    assert result.answer
    assert_real_spans(result, story)
    if strategy == "chain":  # no base-model stop sequence was sent to the chat endpoint
        call_log(settings.cache_dir).recent(1)  # flushes the log
        with sqlite3.connect(settings.cache_dir / "calls.sqlite3") as db:
            sent = [json.loads(row[0]) for row in db.execute("SELECT request FROM calls")]
        assert sent and all(request["stop"] == [] for request in sent)


@pytest.mark.slow  # keeps the default run under 10 minutes on 2 cores
def test_summarize_returns_the_models_summary_as_written(settings, story):
    result = longdoc.summarize(story, words=60, settings=settings)
    assert_as_written(result, settings)
    assert count_words(result.answer) >= 10


@pytest.mark.slow  # a plan and several section calls: minutes on two cores
def test_a_short_write_joins_its_pieces_with_the_right_whitespace(settings, tmp_path):
    result = longdoc.write("Write a short article about the keepers of old lighthouses.", words=150,
                           settings=settings, checkpoint=tmp_path / "write.sqlite")
    assert result.words >= 60
    assert "  " not in result.text.replace("\n", " \n")  # no doubled spaces at a join
    for opener in ("Moreover,", "In addition,", "For example,"):
        assert f"{opener}{opener}" not in result.text
    assert not any(part and part[0].islower() for part in result.text.split("\n\n"))


@pytest.mark.slow  # a whole write behind the row
@pytest.mark.timeout(900)
def test_one_dataset_row_on_the_instruct_model(capsys, tmp_path):
    from longdoc.cli import main

    prompts = tmp_path / "prompts.jsonl"
    prompts.write_text(json.dumps({"prompt": "Write a short note on why lighthouses are painted in stripes.",
                                   "length": 80}) + "\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    code = main(["dataset", str(prompts), "-o", str(out), "--with-meta", "--model", "local-instruct",
                 "--window", "4096"])
    assert code == 0, capsys.readouterr().err
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    rejects = tmp_path / "out.rejects.jsonl"
    if not rows:  # a weak model's row may be rejected, never written with a failure as text
        assert rejects.exists() and json.loads(rejects.read_text(encoding="utf-8").splitlines()[0])["reason"]
        return
    (row,) = rows
    assert [m["role"] for m in row["messages"]] == ["user", "assistant"]
    assert count_words(row["messages"][1]["content"]) >= 30
    assert row["meta"]["words"] == count_words(row["messages"][1]["content"])
