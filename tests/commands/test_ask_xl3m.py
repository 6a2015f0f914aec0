"""`longdoc ask --strategy xl3m` and `longdoc.api.ask(strategy="xl3m")` on the fake model."""

from __future__ import annotations

import json

from longdoc import api
from longdoc.cli import main
from longdoc.config import Settings

FILLER = "The committee met to discuss the budget for the bridge and the library. " * 8


def write_minutes(tmp_path):
    path = tmp_path / "minutes.txt"
    parts = [FILLER] * 20
    parts.insert(14, "The secret passcode for the vault is 7341-orchid.")
    path.write_text("\n\n".join(parts), encoding="utf-8")
    return path


def test_ask_xl3m_json_reports_every_segment(tmp_path, capsys):
    path = write_minutes(tmp_path)
    args = ["ask", str(path), "What is the secret passcode for the vault?", "--strategy", "xl3m",
            "--scorer", "lexical", "--model", "fake", "--window", "1024", "--json"]
    assert main(args) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["strategy"] == "xl3m"
    assert "7341-orchid" in data["answer"]
    segments = data["segments"]
    assert len(segments) == data["chunks"] > 3
    assert set(segments[0]) == {"source", "start", "end", "score", "selected"}
    kept = [s for s in segments if s["selected"]]
    assert 0 < len(kept) < len(segments)
    text = path.read_text(encoding="utf-8")
    assert any("7341-orchid" in text[s["start"] : s["end"]] for s in kept)
    assert data["usage"]["calls"] == 1  # lexical scoring calls no model


def test_ask_xl3m_dry_run_plans_scoring_calls(tmp_path, capsys):
    path = write_minutes(tmp_path)
    base = ["ask", str(path), "What is the passcode?", "--strategy", "xl3m", "--model", "fake",
            "--window", "1024", "--dry-run", "--json"]
    assert main([*base, "--scorer", "certainty"]) == 0
    certainty = json.loads(capsys.readouterr().out)
    assert main([*base, "--scorer", "lexical"]) == 0
    lexical = json.loads(capsys.readouterr().out)
    assert certainty["strategy"] == "xl3m" and certainty["calls"] == certainty["chunks"] + 1
    assert lexical["calls"] == 1
    assert certainty["prompt_tokens"] > lexical["prompt_tokens"]
    assert main([*base, "--scorer", "psychic"]) == 2


def test_api_ask_xl3m_with_certainty(tmp_path):
    path = write_minutes(tmp_path)
    result = api.ask(path, "What is the secret passcode for the vault?", strategy="xl3m", scorer="certainty",
                     settings=Settings(model="fake", window=1024, cache_dir=tmp_path / "c"))
    assert result.segments is not None
    best = min(result.segments, key=lambda s: s.score)
    assert best.selected and "7341-orchid" in path.read_text(encoding="utf-8")[best.start : best.end]
    assert result.usage.calls == len(result.segments) + 1


def test_api_ask_xl3m_default_scorer_is_the_configured_one(tmp_path):
    from longdoc.config import DEFAULT_SCORER
    from longdoc.retrieval.scorers import selection_calls

    path = write_minutes(tmp_path)
    result = api.ask(path, "What is the secret passcode for the vault?", strategy="xl3m",
                     settings=Settings(model="fake", window=1024, cache_dir=tmp_path / "c"))
    assert result.segments is not None
    assert result.usage.calls == selection_calls(DEFAULT_SCORER, len(result.segments)) + 1
    assert any(s.selected and "7341-orchid" in path.read_text(encoding="utf-8")[s.start : s.end] for s in result.segments)


def test_ask_xl3m_dry_run_knows_the_suite_scorers(tmp_path, capsys):
    path = write_minutes(tmp_path)
    base = ["ask", str(path), "What is the passcode?", "--strategy", "xl3m", "--model", "fake",
            "--window", "1024", "--dry-run", "--json"]
    calls = {}
    for scorer in ("answer", "calibrated", "expanded", "fusion", "fusion=lexical+certainty"):
        assert main([*base, "--scorer", scorer]) == 0
        calls[scorer] = json.loads(capsys.readouterr().out)["calls"]
    chunks = calls["answer"] - 1
    assert calls == {"answer": chunks + 1, "calibrated": 2 * chunks + 1, "expanded": 2, "fusion": chunks + 1,
                     "fusion=lexical+certainty": chunks + 1}
