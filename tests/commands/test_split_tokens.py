"""`longdoc split` and `longdoc tokens` through the real entry point."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import pytest

from longdoc.cli import main
from longdoc.tokens import count_tokens


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / ".gitignore").write_text("*.log\n", encoding="utf-8")
    (tmp_path / "notes.md").write_text("# Notes\n\n" + "A sentence about notes. " * 200 + "\n", encoding="utf-8")
    (tmp_path / "main.py").write_text("def main():\n    return 42\n", encoding="utf-8")
    (tmp_path / "run.log").write_text("noise\n", encoding="utf-8")
    (tmp_path / ".env").write_text("KEY=1\n", encoding="utf-8")
    return tmp_path


def test_split_json_lines_cover_every_document(project: Path, capsys):
    assert main(["split", str(project), "--tokens", "100", "--json"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert {row["source"] for row in rows} == {".gitignore", "notes.md", "main.py"}
    texts = {path: (project / path).read_text(encoding="utf-8") for path in (".gitignore", "notes.md", "main.py")}
    for row in rows:
        assert set(row) >= {"source", "start", "end", "tokens", "lines", "symbol"}
        assert texts[row["source"]][row["start"] : row["end"]] == row["text"]
        assert row["tokens"] == count_tokens(row["text"]) <= 100
        assert row["lines"][0] <= row["lines"][1]
    notes = [row for row in rows if row["source"] == "notes.md"]
    assert len(notes) > 1 and "".join(row["text"] for row in notes) == texts["notes.md"]


def test_split_plain_output_and_skips_on_stderr(project: Path, capsys):
    assert main(["split", str(project / "notes.md"), "-t", "200", "--include", "*.md"]) == 0
    captured = capsys.readouterr()
    lines = captured.out.strip().splitlines()
    assert len(lines) > 1 and all("tokens" in line for line in lines)
    assert main(["split", str(project), "--include", "*.md"]) == 0
    assert "skipped main.py: not-included" in capsys.readouterr().err


def test_split_reads_stdin(monkeypatch, capsys):
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"one two three. four five.\n")))
    assert main(["split", "-", "--tokens", "4", "--json"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert "".join(r["text"] for r in rows) == "one two three. four five.\n"
    assert {r["source"] for r in rows} == {"<stdin>"}


def test_split_errors_and_usage(project: Path, capsys):
    assert main(["split", str(project / "missing.txt")]) == 1
    assert "missing.txt" in capsys.readouterr().err
    assert main(["split", str(project), "--splitter", "magic"]) == 2
    assert main(["split", str(project), "--tokens", "10", "--overlap", "10"]) == 2
    assert main(["split", str(project / ".env")]) == 1  # nothing readable: only a secret


def test_tokens_json_report(project: Path, capsys):
    assert main(["tokens", str(project), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    files = {f["path"]: f["tokens"] for f in report["files"]}
    assert set(files) == {".gitignore", "notes.md", "main.py"}
    assert files["main.py"] == count_tokens((project / "main.py").read_text(encoding="utf-8"))
    assert report["total_tokens"] == sum(files.values())
    assert {(s["path"], s["reason"]) for s in report["skipped"]} == {("run.log", "gitignore"), (".env", "secret")}


def test_tokens_table_shows_top_files_share_and_skips(project: Path, capsys):
    assert main(["tokens", str(project), "--allow-secrets", "--exclude", "main.py"]) == 0
    out = capsys.readouterr().out
    assert "notes.md" in out and ".env" in out and "%" in out
    assert "total:" in out and "excluded" in out and "gitignore" in out


def test_tokens_size_cap_option(project: Path, capsys):
    assert main(["tokens", str(project), "--max-file-bytes", "100", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert {f["path"] for f in report["files"]} == {".gitignore", "main.py"}
    assert ("notes.md", "too-large") in {(s["path"], s["reason"]) for s in report["skipped"]}
