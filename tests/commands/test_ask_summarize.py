"""`longdoc ask` and `longdoc summarize` through the real entry point, on the fake model."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest

from longdoc.cli import main


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "tiny"
    (root / "tiny").mkdir(parents=True)
    (root / "README.md").write_text(
        "# Tiny\n\nTiny adds numbers from the command line. The passkey is 71432.\n", encoding="utf-8"
    )
    (root / "tiny" / "arith.py").write_text(
        '"""Arithmetic helpers for tiny."""\n\n\ndef add(a, b):\n    """Add two numbers."""\n'
        "    return a + b\n",
        encoding="utf-8",
    )
    (root / "tiny" / "cli.py").write_text(
        '"""The tiny command: prints the sum of its arguments."""\nimport sys\n\n'
        "from tiny.arith import add\n\n\ndef main():\n    print(add(*map(int, sys.argv[1:3])))\n",
        encoding="utf-8",
    )
    return root


def test_ask_json_contract(repo: Path, capsys):
    assert main(["ask", str(repo), "What is the passkey?", "--model", "fake", "--json"]) == 0
    captured = capsys.readouterr()
    data = json.loads(captured.out)
    assert set(data) >= {"answer", "strategy", "chunks", "citations", "usage", "timings"}
    assert "71432" in data["answer"]
    assert data["strategy"] == "chain" and data["chunks"] == 3
    assert set(data["usage"]) >= {"calls", "cached_calls", "prompt_tokens", "completion_tokens"}
    readme = (repo / "README.md").read_text(encoding="utf-8")
    cited = [c for c in data["citations"] if c["source"] == "README.md"]
    assert cited and "71432" in readme[cited[0]["start"] : cited[0]["end"]]
    assert cited[0]["lines"] == [3, 3]
    assert "worker 1/" in captured.err  # progress goes to stderr


def test_ask_trace_adds_notes_and_hierarchical_runs(repo: Path, capsys):
    args = ["ask", str(repo), "What does add do?", "--strategy", "hierarchical", "--trace"]
    assert main([*args, "--model", "fake", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["strategy"] == "hierarchical" and isinstance(data["notes"], list)


def test_dry_run_calls_no_model(repo: Path, capsys, tmp_path):
    cache = tmp_path / "cache"
    assert main(["ask", str(repo), "What is the passkey?", "--dry-run", "--json", "--model", "fake",
                 "--cache-dir", str(cache)]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["dry_run"] is True and data["calls"] == data["workers"] + 1
    assert data["prompt_tokens"] > data["document_tokens"] > 0
    assert not (cache / "chain_of_agents.sqlite").exists()


def test_dry_run_with_a_window_plans_without_reaching_the_endpoint(repo: Path, capsys):
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    assert main(["summarize", str(repo), "--dry-run", "--json", "--model", "some-model", "--base-url",
                 f"http://127.0.0.1:{port}/v1", "--window", "8192"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["window"] == 8192 and data["calls"] >= 2


def test_summarize_repository(repo: Path, capsys):
    assert main(["summarize", str(repo), "--words", "60", "--model", "fake", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["answer"]
    sources = {c["source"] for c in data["citations"]}
    assert sources <= {"README.md", "tiny/arith.py", "tiny/cli.py"} and "tiny/arith.py" in sources
    for citation in data["citations"]:
        text = (repo / citation["source"]).read_text(encoding="utf-8")
        assert 0 <= citation["start"] < citation["end"] <= len(text)


def test_summarize_plain_output(repo: Path, capsys):
    assert main(["summarize", str(repo / "README.md"), "--model", "fake", "--focus", "numbers"]) == 0
    captured = capsys.readouterr()
    assert captured.out.strip()
    assert "calls" in captured.err


def test_bad_strategy_is_a_usage_error(repo: Path):
    assert main(["ask", str(repo), "q", "--strategy", "sideways", "--model", "fake"]) == 2


def test_missing_path_is_a_reported_failure(tmp_path: Path, capsys):
    assert main(["summarize", str(tmp_path / "nope"), "--model", "fake"]) == 1
    assert "no such file" in " ".join(capsys.readouterr().err.split())
