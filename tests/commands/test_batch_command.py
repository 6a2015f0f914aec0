"""`longdoc batch`: rows match single-document `ask`, bad paths are rows, reruns skip, Ray reads the same."""

import json
from pathlib import Path

import pytest

from longdoc.cli import main

QUESTION = "When was the harbour built?"


def corpus(folder: Path) -> Path:
    docs = folder / "docs"
    (docs / "sub").mkdir(parents=True)
    for i in range(3):
        (docs / f"paper{i}.txt").write_text(
            f"Paper {i}. The harbour of town {i} was built in year 18{i}0. The mayor was Alice {i}.\n"
            "The river flows north past the mill.\n",
            encoding="utf-8",
        )
    (docs / "sub" / "notes.md").write_text("# Notes\n\nThe harbour was built in 1901 by the guild.\n", encoding="utf-8")
    (docs / ".hidden.txt").write_text("The harbour was never built.\n", encoding="utf-8")
    return docs


def rows_of(path: Path) -> list[dict]:
    text = path.read_text(encoding="utf-8")
    assert text == "" or text.endswith("\n")
    return [json.loads(line) for line in text.splitlines()]


def run(capsys, *args):
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def without_timings(row: dict) -> dict:
    return {k: v for k, v in row.items() if k not in ("timings", "id", "path")}


def test_batch_rows_match_single_document_ask_and_a_bad_path_is_a_row(capsys, tmp_path):
    docs = corpus(tmp_path)
    out = tmp_path / "out.jsonl"
    missing = tmp_path / "missing.txt"
    code, _, err = run(
        capsys, "batch", "ask", str(docs), str(missing), "-o", str(out), "--question", QUESTION,
        "--model", "fake", "--no-cache",
    )
    assert code == 0, err
    rows = rows_of(out)
    by_path = {r["path"]: r for r in rows}
    expected = sorted([str(docs / f"paper{i}.txt") for i in range(3)] + [str(docs / "sub" / "notes.md"), str(missing)])
    assert sorted(by_path) == expected  # each file of the folder, hidden ones skipped, and the bad path
    assert "no such file" in by_path[str(missing)]["error"] and "answer" not in by_path[str(missing)]
    for i in range(3):
        path = str(docs / f"paper{i}.txt")
        code, single, _ = run(capsys, "--json", "ask", path, QUESTION, "--model", "fake", "--no-cache")
        assert code == 0
        assert without_timings(by_path[path]) == without_timings(json.loads(single))
        assert f"18{i}0" in by_path[path]["answer"]
    assert "4 answered, 1 errors" in err


def test_rerun_skips_finished_documents_and_cuts_a_torn_line(capsys, tmp_path):
    docs = corpus(tmp_path)
    out = tmp_path / "out.jsonl"
    args = ["batch", "summarize", str(docs), "-o", str(out), "--words", "40", "--model", "fake", "--no-cache", "--json"]
    code, first, err = run(capsys, *args)
    assert code == 0, err
    assert json.loads(first)["answered"] == 4
    rows = rows_of(out)
    # A kill mid-write: the last row torn, so that document is read again, and only it.
    text = out.read_text(encoding="utf-8")
    out.write_text(text[: text.rstrip("\n").rfind("\n") + 1] + rows[-1]["id"][:10], encoding="utf-8")
    code, second, err = run(capsys, *args)
    assert code == 0, err
    report = json.loads(second)
    assert (report["skipped_done"], report["answered"], report["torn_bytes_repaired"]) == (3, 1, 10)
    again = rows_of(out)
    assert len(again) == 4 and len({r["id"] for r in again}) == 4
    assert again[-1]["path"] == rows[-1]["path"] and again[-1]["answer"] == rows[-1]["answer"]


@pytest.mark.slow  # Ray actors start by importing longdoc: ~15 s on 2 busy cores
def test_batch_on_ray_writes_the_same_rows_as_threads(capsys, tmp_path, ray_cluster):
    docs = corpus(tmp_path)
    here, there = tmp_path / "here.jsonl", tmp_path / "ray.jsonl"
    base = ["batch", "ask", str(docs), str(tmp_path / "missing.txt"), "--question", QUESTION, "--model", "fake", "--no-cache"]
    assert run(capsys, *base, "-o", str(here))[0] == 0
    code, _, err = run(capsys, *base, "-o", str(there), "--ray", ray_cluster)
    assert code == 0, err
    assert "on 2 Ray actors" in err
    canonical = {r["id"]: without_timings(r) | {"path": r["path"]} for r in rows_of(here)}
    assert {r["id"]: without_timings(r) | {"path": r["path"]} for r in rows_of(there)} == canonical
