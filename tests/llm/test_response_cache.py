"""The response cache: hits on rerun, bypass, errors logged not cached, no keys, what is keyed."""

import asyncio
import sqlite3
import threading

import pytest

from longdoc.config import Settings
from longdoc.errors import ModelError
from longdoc.llm import (
    CachedModel,
    CallLog,
    CompletionRequest,
    FakeModel,
    Message,
    RunUsage,
    load_model,
)
from longdoc.llm.call_log import CALL_LOG_NAME
from longdoc.llm.response_cache import request_key

QUESTION = "The ferry leaves at noon. Tickets cost four coins.\nQuestion: when does the ferry leave?\nAnswer:"


def test_rerun_is_answered_from_the_cache(tmp_path):
    fake = FakeModel()
    model = CachedModel(fake, CallLog.in_dir(tmp_path))
    request = CompletionRequest.from_text(QUESTION)
    first = model.complete(request)
    second = asyncio.run(model.acomplete(request))
    assert not first.cached and second.cached
    assert second.text == first.text == "The ferry leaves at noon."
    assert len(fake.history) == 1
    usage = RunUsage()
    usage.add(first)
    usage.add(second)
    assert (usage.calls, usage.cached_calls) == (2, 1)


def test_rerun_through_load_model_makes_no_model_call(tmp_path):
    settings = Settings(model="fake", cache_dir=tmp_path)
    requests = [CompletionRequest.from_text(f"{QUESTION} {i}") for i in range(5)]
    first = load_model(settings)
    texts = [first.complete(r).text for r in requests]
    again = load_model(settings)
    replies = [again.complete(r) for r in requests]
    assert [r.text for r in replies] == texts
    assert all(r.cached for r in replies)
    assert again.history == []  # the fresh FakeModel behind `again` was never called


def test_any_parameter_change_is_a_miss(tmp_path):
    fake = FakeModel()
    model = CachedModel(fake, CallLog.in_dir(tmp_path))
    base = CompletionRequest.from_text(QUESTION)
    variants = [
        base,
        base.model_copy(update={"max_tokens": 7}),
        base.model_copy(update={"temperature": 0.5}),
        base.model_copy(update={"stop": ("\n",)}),
        base.model_copy(update={"logprobs": 2}),
    ]
    for request in variants:
        assert not model.complete(request).cached
    assert len(fake.history) == len(variants)
    assert request_key("a", "m", True, base) != request_key("b", "m", True, base)
    assert request_key("a", "m", True, base) != request_key("a", "m", False, base)


def test_no_cache_reads_nothing_but_still_logs(tmp_path):
    log = CallLog.in_dir(tmp_path)
    fake = FakeModel()
    request = CompletionRequest.from_text(QUESTION)
    CachedModel(fake, log).complete(request)
    bypass = CachedModel(fake, log, read=False)
    assert not bypass.complete(request).cached
    assert len(fake.history) == 2
    assert log.count() == 2


def test_errors_are_logged_not_cached(tmp_path):
    def failing(_request):
        raise ModelError("backend down", model="fake", status=503, attempts=3)

    log = CallLog.in_dir(tmp_path)
    model = CachedModel(FakeModel(rule=failing), log)
    with pytest.raises(ModelError):
        model.complete(CompletionRequest.from_text("hi"))
    [record] = log.recent(5)
    assert record.status == 503 and "backend down" in record.error and record.text is None
    assert log.lookup(request_key(model.endpoint, "fake", True, CompletionRequest.from_text("hi"))) is None


def test_api_keys_never_reach_the_log(tmp_path, monkeypatch):
    secret = "sk-test-0123456789abcdefSECRET"
    monkeypatch.setenv("OPENAI_API_KEY", secret)
    settings = Settings.from_env(model="fake", cache_dir=tmp_path)
    assert settings.api_key is not None
    model = load_model(settings)
    model.complete(CompletionRequest.from_text(QUESTION))
    model.complete(CompletionRequest.from_text(QUESTION))
    assert model.log.count() == 2  # both rows committed before the files are read
    for path in tmp_path.iterdir():
        assert secret.encode() not in path.read_bytes(), path


def test_a_failing_log_costs_the_cache_not_the_answer(tmp_path, monkeypatch):
    log = CallLog.in_dir(tmp_path)
    model = CachedModel(FakeModel(), log)

    def locked(*_args):
        raise sqlite3.OperationalError("database is locked")

    monkeypatch.setattr(log, "record", locked)
    monkeypatch.setattr(log, "lookup", locked)
    assert model.complete(CompletionRequest.from_text(QUESTION)).text == "The ferry leaves at noon."


def test_a_response_queued_for_the_log_is_a_hit_before_it_is_committed(tmp_path, monkeypatch):
    log = CallLog.in_dir(tmp_path)
    gate = threading.Event()
    build_rows = log._write_batches

    def slow_writer():
        gate.wait(timeout=30)  # hold the writer back: nothing is committed until the gate opens
        build_rows()

    monkeypatch.setattr(log, "_write_batches", slow_writer)
    fake = FakeModel()
    model = CachedModel(fake, log)
    first = model.complete(CompletionRequest.from_text(QUESTION))
    again = model.complete(CompletionRequest.from_text(QUESTION))
    assert again.cached and again.text == first.text
    assert len(fake.history) == 1
    with sqlite3.connect(tmp_path / CALL_LOG_NAME) as conn:
        assert conn.execute("SELECT COUNT(*) FROM calls").fetchone()[0] == 0
    gate.set()
    assert log.count() == 2  # count() waits for the queue to drain
    assert [r.cached for r in log.recent(5)] == [True, False]


def test_only_the_rendering_the_backend_is_sent_is_keyed_and_logged(tmp_path):
    log = CallLog.in_dir(tmp_path)
    completion_style = CachedModel(FakeModel(completion_style=True), log)
    first = CompletionRequest(messages=(Message(role="user", content="chat " * 500),), prompt=QUESTION)
    reworded_chat = first.model_copy(update={"messages": (Message(role="user", content="other " * 500),)})
    assert not completion_style.complete(first).cached
    assert completion_style.complete(reworded_chat).cached  # the base model never saw the chat
    stored = log._connection()
    log.flush()
    [request_json] = stored.execute("SELECT request FROM calls WHERE request IS NOT NULL").fetchone()
    assert "Question: when does the ferry leave?" in request_json and "chat chat" not in request_json
    chat = CachedModel(FakeModel(completion_style=False), CallLog.in_dir(tmp_path / "chat"))
    assert not chat.complete(first).cached
    assert not chat.complete(reworded_chat).cached  # a chat model did see it
