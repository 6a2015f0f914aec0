"""`longdoc dataset` on the real embedded model: one prompt of ~300 words."""

import json

import pytest

from longdoc.agents.length import count_words
from longdoc.cli import main


@pytest.mark.model
@pytest.mark.timeout(900)
def test_a_prompt_on_the_embedded_model(capsys, tmp_path):
    prompts = tmp_path / "prompts.jsonl"
    asked = ["Write a short blog post about growing tomatoes."]
    prompts.write_text("\n".join(json.dumps({"prompt": p, "length": 300}) for p in asked) + "\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    code = main(["dataset", str(prompts), "-o", str(out), "--with-meta", "--model", "local", "--concurrency", "1"])
    err = capsys.readouterr().err
    assert code == 0, err
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    rejects = [json.loads(line) for line in (tmp_path / "out.rejects.jsonl").read_text(encoding="utf-8").splitlines()]
    # Every prompt ends up exactly once, as a row or as a reject with its reason.
    assert sorted([r["messages"][0]["content"] for r in rows] + [r["prompt"] for r in rejects]) == sorted(asked)
    assert all(r["reason"] for r in rejects)
    for row in rows:
        text = row["messages"][1]["content"]
        assert row["messages"][1]["role"] == "assistant"
        assert row["meta"]["words"] == count_words(text) > 0
        assert row["meta"]["model"].startswith("gemma")
