"""`longdoc write` and `longdoc eval length` against a local OpenAI-compatible test server."""

import json

import pytest

from longdoc.agents.length import count_words
from longdoc.cli import main
from longdoc.testing.openai_server import OpenAITestServer
from longdoc.testing.writing import author_reply


@pytest.fixture(scope="module")
def server():
    with OpenAITestServer(reply=author_reply) as running:
        yield running


def run(capsys, server, *args):
    code = main([*args, "--base-url", server.url, "--model", server.model])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_write_json_follows_the_contract(capsys, server, tmp_path):
    code, out, err = run(
        capsys, server, "write", "Write about rivers.", "--words", "900", "--json", "--checkpoint", str(tmp_path / "c.db")
    )
    assert code == 0
    data = json.loads(out)
    assert {"text", "words", "target_words", "length_score", "plan", "sections"} <= set(data)
    assert data["target_words"] == 900
    assert data["words"] == count_words(data["text"])
    assert abs(data["words"] - 900) <= 0.15 * 900
    assert sum(p["words"] for p in data["plan"]) == 900
    assert all(set(p) >= {"main_point", "words"} for p in data["plan"])
    assert len(data["sections"]) == len(data["plan"])
    # Progress per section went to stderr, not stdout.
    assert "section 1/" in err and "section 1/" not in out


def test_write_to_a_file_from_an_instruction_file(capsys, server, tmp_path):
    instruction = tmp_path / "task.txt"
    instruction.write_text("Write a short essay about harbors.\n", encoding="utf-8")
    target = tmp_path / "essay.txt"
    code, out, _ = run(
        capsys, server, "write", "--instruction-file", str(instruction), "--words", "400",
        "-o", str(target), "--checkpoint", str(tmp_path / "c.db"),
    )
    assert code == 0
    assert out == ""
    assert count_words(target.read_text(encoding="utf-8")) > 250


@pytest.mark.parametrize("args", [["write", "--words", "100"], ["write", "x", "--words", "0"]])
def test_bad_usage_exits_2(capsys, server, args):
    code, _, _ = run(capsys, server, *args)
    assert code == 2


def test_eval_length_scores_every_prompt(capsys, server, tmp_path):
    prompts = tmp_path / "prompts.jsonl"
    prompts.write_text(
        "\n".join(
            json.dumps(row)
            for row in [
                {"prompt": "Write a 300-word note on bridges.", "type": "Note", "length": 300},
                {"prompt": "Write a 700-word story about a lighthouse.", "type": "Story", "length": 700},
                {"prompt": "Write 5000 words on glaciers.", "type": "Essay", "length": 5000},
            ]
        ),
        encoding="utf-8",
    )
    code, out, err = run(capsys, server, "eval", "length", str(prompts), "--max-length", "3000", "--json")
    assert code == 0
    data = json.loads(out)
    assert [r["target_words"] for r in data["rows"]] == [300, 700]
    assert all(r["length_score"] > 80 for r in data["rows"])
    mean = sum(r["length_score"] for r in data["rows"]) / 2
    assert data["mean_length_score"] == pytest.approx(mean, abs=0.01)
    assert "[2/2]" in err


def test_eval_length_reports_a_bad_line_with_its_number(capsys, server, tmp_path):
    prompts = tmp_path / "prompts.jsonl"
    prompts.write_text('{"prompt": "ok", "length": 100}\n{"prompt": "no length"}\n', encoding="utf-8")
    code, _, err = run(capsys, server, "eval", "length", str(prompts))
    assert code == 1
    assert "line 2" in err


def test_stream_prints_the_sections_as_written_and_the_file_matches(capsys, server, tmp_path):
    target = tmp_path / "essay.md"
    code, out, err = run(
        capsys, server, "write", "Write about lighthouses.", "--words", "900", "--stream",
        "-o", str(target), "--checkpoint", str(tmp_path / "c.db"),
    )
    assert code == 0
    assert out == target.read_text(encoding="utf-8")
    assert count_words(out) > 600 and "section 3/3" in err
    code, json_out, _ = run(
        capsys, server, "write", "Write about lighthouses.", "--words", "900", "--json",
        "-o", str(target), "--checkpoint", str(tmp_path / "c.db"),
    )
    assert code == 0 and json.loads(json_out)["text"] + "\n" == target.read_text(encoding="utf-8")


def test_stream_with_json_is_bad_usage(capsys, server):
    code, _, _ = run(capsys, server, "write", "x", "--words", "100", "--stream", "--json")
    assert code == 2
