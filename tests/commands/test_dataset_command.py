"""`longdoc dataset` end to end: SIGKILL and rerun, bad lines, rejects, round-robin endpoints."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from longdoc.cli import main
from longdoc.llm.fake import request_text
from longdoc.testing.openai_server import OpenAITestServer
from longdoc.testing.writing import author_reply, is_plan_request, prose

LONGDOC = [sys.executable, "-m", "longdoc.cli"]


def write_prompts(path: Path, count: int, words: int = 700) -> list[str]:
    prompts = [f"Write an essay about subject number {i}." for i in range(count)]
    path.write_text("\n".join(json.dumps({"prompt": p, "length": words}) for p in prompts) + "\n", encoding="utf-8")
    return prompts


def rows_of(path: Path) -> list[dict]:
    text = path.read_text(encoding="utf-8")
    assert text == "" or text.endswith("\n")
    return [json.loads(line) for line in text.splitlines()]  # every line valid JSON


def run(capsys, *args):
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.timeout(240)
@pytest.mark.parametrize("processes", ["1", "2"])
def test_sigkill_mid_run_then_rerun_leaves_every_prompt_exactly_once(tmp_path, processes):
    prompts = write_prompts(tmp_path / "prompts.jsonl", 24)
    out = tmp_path / "out.jsonl"
    env = dict(os.environ, LONGDOC_CACHE_DIR=str(tmp_path / "cache"))
    with OpenAITestServer(reply=author_reply, latency=0.05) as server:
        command = [
            *LONGDOC, "dataset", str(tmp_path / "prompts.jsonl"), "-o", str(out),
            "--base-url", server.url, "--model", server.model, "--concurrency", "3", "--no-cache",
            "--processes", processes,
        ]
        process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if out.exists() and out.read_text(encoding="utf-8").count("\n") >= 4:
                break
            if process.poll() is not None:
                break
            time.sleep(0.02)
        assert process.poll() is None, "the run finished before it could be killed"
        process.send_signal(signal.SIGKILL)
        process.wait()
        stderr = process.stderr.read().decode()
        process.stderr.close()
        written_before = len(rows_of(out))
        assert 4 <= written_before < len(prompts), stderr
        # No worker process outlives the run it belonged to: the model hears nothing more.
        time.sleep(0.5)  # calls already in flight at the kill come back
        heard = len(server.requests)
        time.sleep(0.5)
        assert len(server.requests) == heard

        requests_before = len(server.requests)
        finished = subprocess.run(command, env=env, capture_output=True, text=True, timeout=180)
        assert finished.returncode == 0, finished.stderr
        rerun_prompts = [json.dumps(r.body) for r in server.requests[requests_before:] if r.body]

    rows = rows_of(out)
    assert sorted(r["messages"][0]["content"] for r in rows) == sorted(prompts)
    assert len({r["id"] for r in rows}) == len(prompts)
    assert f"{written_before} already done" in finished.stderr
    assert ("in 2 processes" in finished.stderr) == (processes == "2")
    # The rerun did not redo the finished prompts: no call of the rerun mentions one.
    finished_before = [r["messages"][0]["content"] for r in rows[:written_before]]
    still_open = [p for p in prompts if p not in finished_before]
    assert rerun_prompts and all(any(json.dumps(p)[1:-1] in body for p in still_open) for body in rerun_prompts)
    assert not [p for p in finished_before if any(json.dumps(p)[1:-1] in body for body in rerun_prompts)]


def test_bad_lines_are_reported_with_numbers_and_skipped(capsys, tmp_path):
    prompts = tmp_path / "prompts.jsonl"
    prompts.write_text(
        '{"prompt": "Write about rivers.", "length": 300}\n'
        "this is not json\n"
        '{"prompt": "", "length": 300}\n'
        '{"prompt": "Write about bridges.", "length": 300}\n'
        '{"prompt": "Write about rivers.", "length": 300}\n',
        encoding="utf-8",
    )
    out = tmp_path / "out.jsonl"
    with OpenAITestServer(reply=author_reply) as server:
        code, _, err = run(capsys, "dataset", str(prompts), "-o", str(out), "--base-url", server.url, "--model", server.model)
    assert code == 0
    assert "line 2: not valid JSON" in err
    assert "line 3: no `prompt` string" in err
    assert "1 duplicates" in err and "2 bad lines" in err
    assert sorted(r["messages"][0]["content"] for r in rows_of(out)) == ["Write about bridges.", "Write about rivers."]


def test_rejects_file_gets_rows_with_reasons(capsys, tmp_path):
    def reply(request):
        if "lakes" in request_text(request) and not is_plan_request(request):
            return " " + prose(5, request_text(request)[-300:])  # a few fresh words per call
        return author_reply(request)

    prompts = tmp_path / "prompts.txt"
    prompts.write_text("Write about rivers.\nWrite about lakes.\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    with OpenAITestServer(reply=reply) as server:
        code, out_text, err = run(
            capsys, "dataset", str(prompts), "-o", str(out), "--words", "300", "--min-length-score", "60",
            "--with-meta", "--json", "--base-url", server.url, "--model", server.model,
        )
    assert code == 0
    report = json.loads(out_text)
    assert report["written"] == 1 and report["rejected"] == 1
    (row,) = rows_of(out)
    assert row["messages"][0]["content"] == "Write about rivers."
    assert row["meta"]["target_words"] == 300
    (reject,) = rows_of(tmp_path / "out.rejects.jsonl")
    assert reject["prompt"] == "Write about lakes." and "length score" in reject["reason"]
    assert "rejected 1" in err and "rows/min" in err and "ETA" in err


def test_several_endpoints_are_used_in_turn(capsys, tmp_path):
    write_prompts(tmp_path / "prompts.jsonl", 6, words=300)
    out = tmp_path / "out.jsonl"
    with OpenAITestServer(reply=author_reply) as first, OpenAITestServer(reply=author_reply) as second:
        code, _, err = run(
            capsys, "dataset", str(tmp_path / "prompts.jsonl"), "-o", str(out),
            "--base-url", f"{first.url},{second.url}", "--model", first.model, "--concurrency", "2",
        )
        calls = (first.stats.completions, second.stats.completions)
    assert code == 0, err
    assert len(rows_of(out)) == 6
    assert min(calls) > 0 and abs(calls[0] - calls[1]) <= 1
