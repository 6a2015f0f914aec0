"""`longdoc llm` and `longdoc logs`: the JSON contract, cache hits, the call log."""

import json

import pytest

from longdoc.cli import main
from longdoc.testing import Fault, OpenAITestServer


def run_json(capsys, *args):
    code = main(list(args))
    out = capsys.readouterr().out
    return code, (json.loads(out) if out.strip() else None)


def test_llm_json_with_fake_then_cached(capsys):
    prompt = "Owls hunt at night. Question: when do owls hunt?"
    code, first = run_json(capsys, "llm", prompt, "--model", "fake", "--json")
    assert code == 0
    assert first["text"] == "Owls hunt at night."
    assert first["model"] == "fake" and first["cached"] is False
    assert first["profile"] == "base" and first["rendering"] == "completion"
    assert set(first["usage"]) >= {"prompt_tokens", "completion_tokens"}
    _, second = run_json(capsys, "--json", "--model", "fake", "llm", prompt)
    assert second["cached"] is True and second["text"] == first["text"]
    _, third = run_json(capsys, "llm", prompt, "--model", "fake", "--json", "--no-cache")
    assert third["cached"] is False


def test_logs_lists_the_calls(capsys):
    main(["--model", "fake", "llm", "Seals swim. Question: do seals swim?"])
    main(["--model", "fake", "llm", "Seals swim. Question: do seals swim?"])
    capsys.readouterr()
    code, logs = run_json(capsys, "logs", "--json", "--limit", "5")
    assert code == 0
    assert [c["cached"] for c in logs["calls"]] == [True, False]
    assert logs["calls"][1]["prompt"] == "Seals swim. Question: do seals swim?"
    assert main(["logs"]) == 0
    assert "Seals" in capsys.readouterr().out


def test_llm_reports_model_errors_with_exit_1(capsys):
    with OpenAITestServer() as server:
        server.inject(Fault.RATE_LIMIT, times=10, retry_after=0.05)
        code = main(["llm", "hi", "--base-url", server.url, "--model", server.model, "--json"])
    captured = capsys.readouterr()
    assert code == 1
    assert captured.out == ""  # no error text as if it were output
    assert "HTTP 429" in captured.err and "5 attempts" in captured.err


def test_llm_bad_usage_exits_2(capsys):
    assert main(["llm", "hi", "--max-tokens", "0", "--model", "fake"]) == 2


@pytest.mark.model
def test_llm_json_on_the_embedded_model(capsys):
    code, out = run_json(capsys, "llm", "The sky on a clear day is", "--max-tokens", "5", "--json")
    assert code == 0
    assert out["text"].strip()
    assert out["usage"]["prompt_tokens"] > 0 and out["usage"]["completion_tokens"] > 0
    assert out["cached"] is False and out["cost_usd"] is None
