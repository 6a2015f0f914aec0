"""`longdoc dataset --ray`: a driver killed with SIGKILL and rerun; Ray stays unimported without it."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from longdoc.cli import fill_optional_values
from longdoc.testing.openai_server import OpenAITestServer
from longdoc.testing.writing import author_reply

LONGDOC = [sys.executable, "-m", "longdoc.cli"]


def write_prompts(path: Path, count: int, words: int = 700) -> list[str]:
    prompts = [f"Write an essay about subject number {i}." for i in range(count)]
    path.write_text("\n".join(json.dumps({"prompt": p, "length": words}) for p in prompts) + "\n", encoding="utf-8")
    return prompts


def rows_of(path: Path) -> list[dict]:
    text = path.read_text(encoding="utf-8")
    assert text == "" or text.endswith("\n")
    return [json.loads(line) for line in text.splitlines()]


def test_ray_is_never_imported_without_the_flag(tmp_path):
    write_prompts(tmp_path / "prompts.jsonl", 2, words=300)
    script = (
        "import sys\n"
        "from longdoc.cli import main\n"
        f"code = main(['dataset', {str(tmp_path / 'prompts.jsonl')!r}, '-o', {str(tmp_path / 'out.jsonl')!r},"
        " '--model', 'fake', '--no-cache', '--processes', '1'])\n"
        "assert code == 0, code\n"
        "print('ray' in sys.modules, 'longdoc.pipelines.dataset.ray_actors' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, env=dict(os.environ))
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["False", "False"]
    assert len(rows_of(tmp_path / "out.jsonl")) == 2


def test_ray_alone_means_a_local_runtime_and_an_address_is_kept():
    assert fill_optional_values(["dataset", "--ray", "p.jsonl", "-o", "o.jsonl"]) == [
        "dataset", "--ray", "local", "p.jsonl", "-o", "o.jsonl"
    ]
    assert fill_optional_values(["dataset", "p.jsonl", "--ray"]) == ["dataset", "p.jsonl", "--ray", "local"]
    for address in ("auto", "ray://head:10001", "10.0.0.5:6379"):
        assert fill_optional_values(["dataset", "--ray", address, "p"]) == ["dataset", "--ray", address, "p"]


@pytest.mark.slow  # two drivers joining Ray and four actor start-ups: ~35 s on 2 busy cores
@pytest.mark.timeout(240)
def test_driver_sigkilled_then_rerun_leaves_every_prompt_once_and_redoes_no_finished_one(tmp_path, ray_cluster):
    prompts = write_prompts(tmp_path / "prompts.jsonl", 16)
    out = tmp_path / "out.jsonl"
    env = dict(os.environ, LONGDOC_CACHE_DIR=str(tmp_path / "cache"))
    with OpenAITestServer(reply=author_reply, latency=0.05) as server:
        command = [
            *LONGDOC, "dataset", str(tmp_path / "prompts.jsonl"), "-o", str(out),
            "--base-url", server.url, "--model", server.model, "--concurrency", "4", "--no-cache",
            "--processes", "2", "--ray", ray_cluster,  # joins the session's runtime: no start-up
        ]
        process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 150
        while time.monotonic() < deadline:
            if out.exists() and out.read_text(encoding="utf-8").count("\n") >= 3:
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
        assert 3 <= written_before < len(prompts), stderr
        # Ray ends the dead driver's actors: the model soon hears nothing more.
        quiet_by = time.monotonic() + 30
        heard = len(server.requests)
        while True:
            time.sleep(1.0)
            if len(server.requests) == heard:
                break
            heard = len(server.requests)
            assert time.monotonic() < quiet_by, "actors kept calling the model after their driver died"

        requests_before = len(server.requests)
        finished = subprocess.run(command, env=env, capture_output=True, text=True, timeout=180)
        assert finished.returncode == 0, finished.stderr
        rerun_prompts = [json.dumps(r.body) for r in server.requests[requests_before:] if r.body]

    rows = rows_of(out)
    assert sorted(r["messages"][0]["content"] for r in rows) == sorted(prompts)
    assert len({r["id"] for r in rows}) == len(prompts)
    assert f"{written_before} already done" in finished.stderr
    assert "on 2 Ray actors" in finished.stderr
    finished_before = [r["messages"][0]["content"] for r in rows[:written_before]]
    assert rerun_prompts
    assert not [p for p in finished_before if any(json.dumps(p)[1:-1] in body for body in rerun_prompts)]


def test_ray_missing_is_a_config_error_naming_the_extra(monkeypatch):
    from longdoc.errors import ConfigError
    from longdoc.pipelines.ray_runtime import import_ray

    monkeypatch.setitem(sys.modules, "ray", None)  # as if the extra were not installed
    with pytest.raises(ConfigError, match=r'longdoc\[ray\]'):
        import_ray()
