"""The SQLite call log: recent calls listed, threads and processes writing together, the batch writer."""

import sqlite3
import subprocess
import sys
import threading

from longdoc.llm import (
    CachedModel,
    CallLog,
    CompletionRequest,
    FakeModel,
)
from longdoc.llm.call_log import CALL_LOG_NAME

QUESTION = "The ferry leaves at noon. Tickets cost four coins.\nQuestion: when does the ferry leave?\nAnswer:"


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
