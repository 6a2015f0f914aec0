"""The SQLite cache and call log: hits on rerun, bypass, errors logged, no keys, concurrency."""

import asyncio
import sqlite3
import subprocess
import sys
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


def test_log_lists_recent_calls_newest_first(tmp_path):
    log = CallLog.in_dir(tmp_path)
    model = CachedModel(FakeModel(["a", "b"]), log)
    model.complete(CompletionRequest.from_text("first prompt"))
    model.complete(CompletionRequest.from_text("second prompt"))
    model.complete(CompletionRequest.from_text("first prompt"))
    records = log.recent(10)
    assert [r.prompt for r in records] == ["first prompt", "second prompt", "first prompt"]
    assert [r.cached for r in records] == [True, False, False]
    assert records[0].text == "a"


def test_threads_share_the_log_safely(tmp_path):
    log = CallLog.in_dir(tmp_path)
    model = CachedModel(FakeModel(), log)
    errors = []

    def work(worker):
        try:
            for i in range(25):
                model.complete(CompletionRequest.from_text(f"worker {worker} call {i % 10}"))
        except Exception as exc:  # collected and asserted on below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(w,)) for w in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert log.count() == 8 * 25
    with sqlite3.connect(tmp_path / CALL_LOG_NAME) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        hits = conn.execute("SELECT COUNT(*) FROM calls WHERE cached = 1").fetchone()[0]
    assert hits == 8 * 15


WRITER = """
import sys
from pathlib import Path
from longdoc.llm import CachedModel, CallLog, CompletionRequest, FakeModel
model = CachedModel(FakeModel(), CallLog.in_dir(Path(sys.argv[1])))
for i in range(40):
    model.complete(CompletionRequest.from_text(f"process {sys.argv[2]} call {i}"))
"""


def test_processes_share_the_log_safely(tmp_path):
    workers = [
        subprocess.Popen([sys.executable, "-c", WRITER, str(tmp_path), str(w)]) for w in range(2)
    ]
    assert [p.wait(timeout=120) for p in workers] == [0, 0]
    assert CallLog.in_dir(tmp_path).count() == 2 * 40


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


def test_the_writer_thread_ends_when_idle_and_a_new_row_starts_another(tmp_path, monkeypatch):
    monkeypatch.setattr("longdoc.llm.call_log.WRITER_IDLE_S", 0.05)
    log = CallLog.in_dir(tmp_path)
    model = CachedModel(FakeModel(), log, read=False)
    model.complete(CompletionRequest.from_text(QUESTION))
    assert log.flush(timeout=10)
    writer = log._writer
    if writer is not None:
        writer.join(timeout=10)
    assert log._writer is None
    model.complete(CompletionRequest.from_text(QUESTION))
    assert log.count() == 2


def test_rows_that_cannot_be_written_are_dropped_without_stalling_the_log(tmp_path, caplog):
    log = CallLog.in_dir(tmp_path)
    with sqlite3.connect(tmp_path / CALL_LOG_NAME) as conn:
        conn.execute("DROP TABLE calls")
    model = CachedModel(FakeModel(), log, read=False)
    assert model.complete(CompletionRequest.from_text(QUESTION)).text == "The ferry leaves at noon."
    assert log.flush(timeout=10)
    assert "call log write failed" in caplog.text


def test_a_second_log_on_the_same_file_sees_rows_still_queued_by_the_first(tmp_path, monkeypatch):
    monkeypatch.setattr("longdoc.llm.call_log.WRITER_LINGER_S", 0.3)  # rows stay queued a while
    model = CachedModel(FakeModel(), CallLog.in_dir(tmp_path), read=False)
    model.complete(CompletionRequest.from_text(QUESTION))
    assert CallLog.in_dir(tmp_path).count() == 1
    assert [r.prompt for r in CallLog.in_dir(tmp_path).recent(5)] == [QUESTION]


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
