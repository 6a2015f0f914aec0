"""Chain-of-Agents end to end on the embedded model (Gemma 3 270M base), tiny inputs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import longdoc
from longdoc.cli import main
from longdoc.config import Settings

pytestmark = pytest.mark.model

FILLER = (
    "The orchard lies on a gentle slope above the village. Every spring the farmers prune "
    "the apple trees and mend the stone walls. In summer the children gather cherries and "
    "sell them at the market on Saturdays. "
)


def test_passkey_reaches_the_final_notes_and_the_answer(tmp_path: Path):
    # Two chunks at a 768-token window: the passkey is in the first, so the second worker
    # must carry it forward in its notes.
    text = FILLER * 3 + "The passkey is 71432. Remember it. " + FILLER * 6
    path = tmp_path / "orchard.txt"
    path.write_text(text, encoding="utf-8")
    settings = Settings.from_env(model="local", window=768, cache_dir=tmp_path / "cache")

    result = longdoc.ask(path, "What is the passkey?", settings=settings)

    assert result.chunks >= 2 and result.usage.calls == result.chunks + 1
    assert "71432" in result.notes[-1]
    assert "71432" in result.answer
    spans = [text[c.start : c.end] for c in result.citations]
    assert any("71432" in span for span in spans)


def test_summarize_command_on_a_tiny_repository(tmp_path: Path, capsys):
    root = tmp_path / "tiny"
    (root / "tiny").mkdir(parents=True)
    (root / "README.md").write_text("# Tiny\n\nTiny is a calculator that adds two numbers.\n", encoding="utf-8")
    (root / "tiny" / "arith.py").write_text(
        '"""Arithmetic helpers for the tiny calculator."""\n\n\ndef add(a, b):\n'
        '    """Return the sum of a and b."""\n    return a + b\n',
        encoding="utf-8",
    )
    code = main(["summarize", str(root), "--words", "40", "--model", "local", "--json",
                 "--cache-dir", str(tmp_path / "cache")])
    data = json.loads(capsys.readouterr().out)
    assert code == 0
    assert data["answer"].strip()
    assert data["usage"]["calls"] == 2  # both small files share one worker, then the manager
    sources = {c["source"] for c in data["citations"]}
    assert "tiny/arith.py" in sources
