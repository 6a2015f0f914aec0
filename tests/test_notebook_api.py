"""Every sync entry works inside a running event loop (a Jupyter cell), on the fake model."""

from __future__ import annotations

import asyncio
import json
import threading

import pytest

import longdoc
from longdoc.aio import loop_is_running, run_sync
from longdoc.config import Settings
from longdoc.documents import Document
from longdoc.llm.fake import FakeModel
from longdoc.pipelines.dataset.generate import generate_dataset
from longdoc.pipelines.dataset.input import PromptItem
from longdoc.pipelines.dataset.options import DatasetOptions
from longdoc.pipelines.xl3m import xl3m
from longdoc.retrieval.scorers import make_scorer
from longdoc.testing.writing import author_reply

NEEDLE = "The secret passcode for the vault is 7341-orchid."
QUESTION = "What is the secret passcode for the vault?"
FILLER = "The committee met on a grey morning to discuss the budget for the coming year. "


@pytest.fixture
def haystack(tmp_path) -> Document:
    parts = [FILLER.replace("committee", f"committee {i}") * 3 for i in range(30)]
    parts.insert(20, NEEDLE)
    path = tmp_path / "minutes.txt"
    path.write_text("\n\n".join(parts), encoding="utf-8")
    return Document.from_text(path.read_text(encoding="utf-8"), path=str(path))


def in_a_running_loop(call):
    """Run the sync `call` from inside a coroutine, as a notebook cell does."""

    async def cell():
        assert loop_is_running()
        return call()

    return asyncio.run(cell())


def settings(tmp_path) -> Settings:
    return Settings.from_env(model="fake", cache_dir=tmp_path / "cache")


def test_ask_and_summarize_inside_a_running_loop(haystack, tmp_path):
    model = FakeModel(context_window=2048)
    answer = in_a_running_loop(lambda: longdoc.ask(haystack, QUESTION, settings=settings(tmp_path), model=model))
    assert "7341-orchid" in answer.answer
    summary = in_a_running_loop(lambda: longdoc.summarize(haystack, words=50, settings=settings(tmp_path), model=model))
    assert summary.answer.strip() and summary.usage.calls >= 1


def test_the_xl3m_entries_inside_a_running_loop(haystack, tmp_path):
    model = FakeModel(context_window=1024)
    via_ask = in_a_running_loop(
        lambda: longdoc.ask(haystack, QUESTION, strategy="xl3m", scorer="lexical", settings=settings(tmp_path), model=model)
    )
    assert via_ask.strategy == "xl3m" and "7341-orchid" in via_ask.answer
    direct = in_a_running_loop(lambda: xl3m([haystack], QUESTION, model, make_scorer("certainty", model), segment_tokens=120))
    assert "7341-orchid" in direct.answer


def test_select_key_context_inside_a_running_loop(haystack):
    model = FakeModel(context_window=1024)
    selection = in_a_running_loop(
        lambda: longdoc.select_key_context([haystack], QUESTION, make_scorer("certainty", model), budget=200)
    )
    assert NEEDLE in selection.context


def test_write_inside_a_running_loop(tmp_path):
    model = FakeModel(rule=author_reply)
    result = in_a_running_loop(
        lambda: longdoc.write("Write about harbours.", 600, model=model, checkpoint=tmp_path / "write.sqlite")
    )
    assert result.words > 400 and len(result.sections) >= 1


def test_generate_dataset_inside_a_running_loop(tmp_path):
    items = [PromptItem(line=1, prompt="Write about bridges.", words=400)]
    out = tmp_path / "out.jsonl"
    report = in_a_running_loop(
        lambda: generate_dataset(items, FakeModel(rule=author_reply), out, options=DatasetOptions(concurrency=1))
    )
    assert report.written == 1
    (row,) = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert row["messages"][0]["content"] == "Write about bridges."


def test_run_sync_hands_back_the_coroutines_exception_and_keeps_context():
    async def fails():
        raise ValueError("from the worker loop")

    with pytest.raises(ValueError, match="from the worker loop"):
        in_a_running_loop(lambda: run_sync(fails()))

    async def thread_name():
        return threading.current_thread().name

    assert run_sync(thread_name()) == threading.current_thread().name  # no loop: runs right here
    assert in_a_running_loop(lambda: run_sync(thread_name())) == "longdoc-run-sync"


def test_async_twins_in_async_code(haystack, tmp_path):
    model = FakeModel(rule=author_reply)

    async def notebook():
        written = await longdoc.awrite("Write about lighthouses.", 400, model=model, checkpoint=tmp_path / "w.sqlite")
        selection = await longdoc.aselect_key_context(
            [haystack], QUESTION, make_scorer("lexical"), budget=200
        )
        return written, selection

    written, selection = asyncio.run(notebook())
    assert written.words > 250 and NEEDLE in selection.context
    for name in ("aask", "asummarize", "awrite", "aselect_key_context", "plan"):
        assert name in longdoc.__all__ and callable(getattr(longdoc, name))
