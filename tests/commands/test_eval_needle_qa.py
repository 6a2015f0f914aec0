"""`longdoc eval needle` and `longdoc eval qa` through the real entry point, on the fake model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from longdoc.cli import main

ESSAY = "".join(f"Essay sentence number {i} talks about startups, taste and cities. " for i in range(900))
NEEDLE = "\nThe best thing to do in San Francisco is eat a sandwich and sit in Dolores Park on a sunny day.\n"


@pytest.fixture
def haystack(tmp_path: Path) -> tuple[Path, Path]:
    essays = tmp_path / "essays"
    essays.mkdir()
    (essays / "one.txt").write_text(ESSAY, encoding="utf-8")
    config = tmp_path / "needle_config.json"
    config.write_text(
        json.dumps({"single_needle": {"needle": NEEDLE, "retrieval_question": "What is the best thing to do in San Francisco?"}}),
        encoding="utf-8",
    )
    return essays, config


def test_eval_needle_json_cells(haystack, capsys):
    essays, config = haystack
    code = main([
        "eval", "needle", "--model", "fake", "--window", "1024", "--lengths", "2000,3000", "--depths", "0,50,100",
        "--strategy", "xl3m", "--scorer", "lexical,certainty", "--haystack", str(essays),
        "--needle-config", str(config), "--json",
    ])
    assert code == 0
    data = json.loads(capsys.readouterr().out)
    cells = data["cells"]
    assert len(cells) == 2 * 3 * 2
    assert {(round(c["tokens"] / 100), c["depth"], c["scorer"]) for c in cells} == {
        (t, d, s) for t in (20, 30) for d in (0, 50, 100) for s in ("lexical", "certainty")
    }
    for cell in cells:
        assert set(cell) >= {"tokens", "depth", "strategy", "selected", "answered"}
        assert cell["strategy"] == "xl3m"
        assert cell["selected"], cell  # a literal needle: BM25 and the fake's certainty both find it
        assert cell["answered"], cell


def test_eval_needle_table_and_bad_usage(haystack, capsys):
    essays, config = haystack
    args = ["eval", "needle", "--model", "fake", "--window", "1024", "--lengths", "2000", "--depths", "50",
            "--scorer", "lexical", "--haystack", str(essays), "--needle-config", str(config)]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "xl3m:lexical: selected 1/1, answered 1/1" in out
    assert main([*args[:-4], "--depths", "150"]) == 2
    assert main([*args, "--strategy", "psychic"]) == 2


def test_eval_qa_json_and_resume(tmp_path, capsys):
    document = "\n\n".join(["The council discussed roads and parks at length that year. " * 10] * 10
                           + ["The keeper of the lighthouse was named Oswin Tarrant."])
    data_file = tmp_path / "qa.jsonl"
    data_file.write_text(
        json.dumps({"context": document, "question": "Who was the keeper of the lighthouse?", "answers": ["Oswin Tarrant"]}) + "\n",
        encoding="utf-8",
    )
    out = tmp_path / "rows.jsonl"
    args = ["eval", "qa", str(data_file), "--model", "fake", "--window", "1024", "--strategy", "xl3m,truncate",
            "--scorer", "lexical", "--out", str(out), "--json"]
    assert main(args) == 0
    data = json.loads(capsys.readouterr().out)
    assert set(data["strategies"]) == {"xl3m", "truncate"}
    for summary in data["strategies"].values():
        assert set(summary) >= {"exact_match", "f1", "accuracy", "evidence_recall", "calls", "prompt_tokens", "seconds"}
        assert summary["accuracy"] is None  # no options in the question
    assert data["strategies"]["xl3m"]["evidence_recall"] == 1.0
    assert data["strategies"]["truncate"]["evidence_recall"] == 0.0
    assert [q["strategy"] for q in data["questions"]] == ["xl3m", "truncate"]
    assert len(out.read_text(encoding="utf-8").splitlines()) == 2
    assert main(args) == 0  # resumed: nothing new is written
    again = json.loads(capsys.readouterr().out)
    assert again["questions"] == data["questions"]
    assert len(out.read_text(encoding="utf-8").splitlines()) == 2
    assert main([*args, "--strategy", "guess"]) == 2


def test_eval_needle_suite_json_rows_summary_and_resume(haystack, tmp_path, capsys):
    essays, _ = haystack
    suite = tmp_path / "suite"
    suite.mkdir()
    for n, (kind, sentence, question, answer) in enumerate([
        ("one-word", "The lighthouse door is painted teal.", "What colour is the lighthouse door painted?", "teal"),
        ("number", "The locker code in the garden is 6093.", "What is the locker code in the garden?", "6093"),
    ]):
        (suite / f"{n}.json").write_text(json.dumps({
            "id": f"n{n}", "kind": kind, "needles": [sentence], "question": question, "answers": [answer],
        }), encoding="utf-8")
    rows = tmp_path / "rows.jsonl"
    args = [
        "eval", "needle", "--model", "fake", "--window", "1024", "--suite", str(suite), "--haystack", str(essays),
        "--lengths", "2000", "--depths", "0,100", "--scorer", "lexical,fusion", "--select-only",
        "--rows", str(rows), "--json",
    ]
    assert main(args) == 0
    data = json.loads(capsys.readouterr().out)
    assert len(data["rows"]) == 2 * 2 * 2
    assert all(r["strategy"] == "select" and r["answered"] is None for r in data["rows"])
    summary = {s["name"]: s for s in data["summary"]}
    assert set(summary) == {"lexical", "fusion"}
    assert summary["lexical"]["cells"] == 4 and summary["lexical"]["calls"] == 0
    assert set(summary["lexical"]["by_kind"]) == {"one-word", "number"}
    assert len(rows.read_text(encoding="utf-8").splitlines()) == 8
    assert main(args) == 0  # every cell is in the rows file: nothing new is run
    again = json.loads(capsys.readouterr().out)
    assert again["rows"] == data["rows"]
    assert len(rows.read_text(encoding="utf-8").splitlines()) == 8


def test_eval_needle_suite_table_and_bad_scorer(haystack, tmp_path, capsys):
    essays, _ = haystack
    suite = tmp_path / "suite"
    suite.mkdir()
    (suite / "a.json").write_text(json.dumps({
        "id": "a", "kind": "name", "needles": ["The ferry is captained by Margit Oyelaran."],
        "question": "Who captains the ferry?", "answers": [["Margit Oyelaran", "Oyelaran"]],
    }), encoding="utf-8")
    base = ["eval", "needle", "--model", "fake", "--window", "1024", "--suite", str(suite), "--haystack", str(essays),
            "--lengths", "2000", "--depths", "50"]
    assert main([*base, "--scorer", "lexical", "--strategy", "xl3m,chain"]) == 0
    out = capsys.readouterr().out
    assert "per scorer" in out and "xl3m:lexical" in out and "chain" in out and "selected per needle kind" in out
    assert main([*base, "--scorer", "lexical,bm26"]) != 0
    (suite / "b.json").write_text(json.dumps({"id": "b", "kind": "name"}), encoding="utf-8")
    assert main([*base, "--scorer", "lexical"]) != 0
    assert "b.json" in capsys.readouterr().err
