"""Errors and progress survive any terminal: one line per error, no folding for pipes."""

from __future__ import annotations

from pathlib import Path

import pytest

from longdoc.cli import main
from longdoc.console import one_line


@pytest.fixture(params=["40", None], ids=["COLUMNS=40", "COLUMNS unset"])
def narrow(request, monkeypatch):
    if request.param is None:
        monkeypatch.delenv("COLUMNS", raising=False)
    else:
        monkeypatch.setenv("COLUMNS", request.param)
    monkeypatch.setenv("NO_COLOR", "1")


def test_a_long_error_is_one_line_at_any_width(narrow, tmp_path: Path, capsys):
    missing = tmp_path / ("a-rather-long-folder-name-" * 4) / "instruction.txt"
    code = main(["write", "--words", "100", "--instruction-file", str(missing), "--model", "fake"])
    err = capsys.readouterr().err
    assert code == 1
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("error: ") and str(missing) in lines[0]


def test_a_multiline_message_is_folded_onto_one_line():
    report = "1 validation error for LengthPrompt\nlength\n  Field required [type=missing]\n"
    assert one_line(report) == "1 validation error for LengthPrompt; length; Field required [type=missing]"


def test_a_table_on_a_pipe_is_not_folded(narrow, tmp_path: Path, capsys):
    name = "a_module_with_a_name_far_longer_than_forty_columns.py"
    (tmp_path / name).write_text("def f():\n    return 1\n", encoding="utf-8")
    assert main(["tokens", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert any(name in line for line in out.splitlines())


def test_a_status_is_a_plain_line_when_stderr_is_not_a_terminal(narrow, capsys):
    assert main(["--model", "fake", "llm", "Seals swim. Question: do seals swim?"]) == 0
    captured = capsys.readouterr()
    assert "calling fake…" in captured.err.splitlines()
    assert captured.out.strip() == "Seals swim."
