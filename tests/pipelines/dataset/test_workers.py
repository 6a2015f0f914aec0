"""Dataset generation over worker processes: same rows as one process, counted CPU, the rules."""

import json

import pytest

from longdoc.config import Settings
from longdoc.errors import ConfigError
from longdoc.llm import load_model
from longdoc.pipelines.dataset.generate import generate_dataset
from longdoc.pipelines.dataset.input import PromptItem
from longdoc.pipelines.dataset.options import DatasetOptions
from longdoc.pipelines.dataset.workers import PROCESS_CONCURRENCY, process_count, shares
from longdoc.testing.openai_server import OpenAITestServer
from longdoc.testing.writing import author_reply


@pytest.fixture(autouse=True)
def rendering() -> str:
    """Worker processes never look at the rendering: these tests (subprocesses, SIGKILL) run
    once, not per rendering (overrides the conftest fixture that doubles this folder's tests)."""
    return "completion"


def rows(path):
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def dataset(server, folder, items, **options):
    settings = Settings.from_env(
        base_url=server.url, model=server.model, concurrency=4, cache=False, cache_dir=folder / "cache", max_retries=0
    )
    out = folder / "out.jsonl"
    report = generate_dataset(items, load_model(settings), out, options=DatasetOptions(**options), settings=settings)
    return report, rows(out)


@pytest.mark.timeout(120)
def test_two_worker_processes_write_the_same_rows_as_one(tmp_path):
    items = [PromptItem(line=i + 1, prompt=f"Write about harbour {i}.", words=300 + 100 * (i % 3)) for i in range(8)]
    with OpenAITestServer(reply=author_reply, latency=0.01) as server:
        (tmp_path / "one").mkdir()
        (tmp_path / "two").mkdir()
        alone, alone_rows = dataset(server, tmp_path / "one", items, concurrency=4, processes=1)
        spread, spread_rows = dataset(server, tmp_path / "two", items, concurrency=4, processes=2)
    assert (alone.processes, spread.processes) == (1, 2)
    assert spread.written == len(spread_rows) == len(items) and not spread.failed
    assert sorted(json.dumps(r, sort_keys=True) for r in spread_rows) == sorted(
        json.dumps(r, sort_keys=True) for r in alone_rows
    )
    assert spread.calls == alone.calls and spread.prompt_tokens == alone.prompt_tokens
    assert spread.cpu_seconds > 0  # the workers' CPU is counted, not only the parent's
    # Every checkpoint was cleared once its row was on disk, whichever process wrote it.
    import sqlite3

    with sqlite3.connect(tmp_path / "two" / "out.jsonl.checkpoints.sqlite") as conn:
        assert conn.execute("SELECT COUNT(*) FROM checkpoints").fetchone()[0] == 0


@pytest.mark.timeout(120)
def test_model_failures_in_workers_are_reported_and_nothing_is_written(tmp_path):
    items = [PromptItem(line=i + 1, prompt=f"Write about lane {i}.", words=300) for i in range(3)]
    with OpenAITestServer(reply=author_reply) as server:
        url = server.url
    # The server is gone: every call of every worker fails after the client's (zero) retries.
    settings = Settings.from_env(
        base_url=url, model="test-model", window=8192, concurrency=2, cache=False, cache_dir=tmp_path, max_retries=0
    )
    out = tmp_path / "out.jsonl"
    report = generate_dataset(
        items, load_model(settings), out, options=DatasetOptions(concurrency=2, processes=2), settings=settings
    )
    assert report.written == 0 and len(report.failed) == 3
    assert all("cannot reach" in failure for failure in report.failed)
    assert out.read_text(encoding="utf-8") == ""


def test_process_count_rules():
    remote = Settings.from_env(base_url="http://127.0.0.1:9/v1", model="m")
    local = Settings.from_env(model="local")
    fake = Settings.from_env(model="fake")
    many = DatasetOptions(concurrency=10 * PROCESS_CONCURRENCY)
    assert process_count(DatasetOptions(concurrency=PROCESS_CONCURRENCY), 100, remote) == 1
    assert 1 <= process_count(many, 100, remote) <= 10
    assert process_count(many, 1, remote) == 1  # never more processes than prompts
    assert process_count(many, 100, local) == process_count(many, 100, fake) == 1
    assert process_count(many, 100, None) == 1  # no settings to rebuild the model from
    assert process_count(DatasetOptions(processes=3), 100, remote) == 3
    with pytest.raises(ConfigError, match="settings"):
        process_count(DatasetOptions(processes=2), 100, None)


def test_concurrency_is_shared_out_evenly():
    assert shares(32, 2) == [16, 16]
    assert shares(5, 2) == [3, 2]
    assert shares(1, 3) == [1, 1, 1]  # every worker runs at least one prompt at a time


@pytest.mark.timeout(120)
def test_a_worker_that_cannot_start_fails_its_prompts_with_the_reason(tmp_path):
    items = [PromptItem(line=i + 1, prompt=f"Write about quay {i}.", words=300) for i in range(3)]
    blocker = tmp_path / "a-file"
    blocker.write_text("", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    with OpenAITestServer(reply=author_reply) as server:
        good = Settings.from_env(
            base_url=server.url, model=server.model, concurrency=2, cache=False, cache_dir=tmp_path / "cache"
        )
        # The workers' call log would live under a regular file: they cannot open it.
        broken = good.model_copy(update={"cache_dir": blocker / "cache"})
        report = generate_dataset(
            items, load_model(good), out, options=DatasetOptions(concurrency=2, processes=2), settings=broken
        )
    assert report.written == 0 and len(report.failed) == len(items)
    assert all("worker process" in failure and "failed" in failure for failure in report.failed), report.failed
    assert out.read_text(encoding="utf-8") == ""
