"""Known windows and prices of hosted models, and cost in run usage."""

from longdoc.config import Settings
from longdoc.llm import Completion, CompletionRequest, OpenAIModel, RunUsage, Usage
from longdoc.llm.catalog import UNKNOWN_WINDOW, cost_usd, known_price, known_window


def test_dated_names_match_their_family():
    assert known_window("gpt-4o-mini-2024-07-18") == 128_000
    assert known_price("gpt-4o-mini-2024-07-18") == (0.15, 0.60)
    assert known_price("gpt-4o-2024-08-06") == (2.50, 10.00)
    assert known_window("gpt-4") == 8_192
    assert known_window("my-local-llama") is None and known_price("my-local-llama") is None


def test_hosted_model_has_price_and_window_without_a_call():
    model = OpenAIModel(model="gpt-4o-mini", api_key="sk-never-used")
    assert model.price == (0.15, 0.60)
    assert model.context_window == 128_000
    assert OpenAIModel(model="gpt-4o-mini", base_url="http://127.0.0.1:9/v1", window=4096).price is None
    assert OpenAIModel(model="unknown-model", api_key="k").context_window == UNKNOWN_WINDOW


def test_run_usage_sums_cost_where_known():
    usage = RunUsage()
    paid = Completion(
        text="x",
        model="gpt-4o-mini",
        usage=Usage(prompt_tokens=1_000_000, completion_tokens=0),
        cost_usd=cost_usd((0.15, 0.60), 1_000_000, 0),
    )
    usage.add(paid)
    usage.add(paid.model_copy(update={"cached": True}))
    assert usage.cost_usd == 0.15 and usage.calls == 2 and usage.cached_calls == 1
    local = RunUsage()
    local.add(Completion(text="x", model="gemma", usage=Usage(prompt_tokens=5, completion_tokens=1)))
    assert local.cost_usd is None


def test_completion_style_from_the_environment(monkeypatch):
    assert Settings.from_env().completion_style is None
    monkeypatch.setenv("LONGDOC_COMPLETION_STYLE", "1")
    assert Settings.from_env().completion_style is True


def test_reasoning_models_get_no_temperature():
    request = CompletionRequest.from_text("x", temperature=0.0)
    assert "temperature" not in OpenAIModel(model="o3-mini", api_key="k")._params(request)
    assert OpenAIModel(model="gpt-4o", api_key="k")._params(request)["temperature"] == 0.0
    served = OpenAIModel(model="o3-mini", base_url="http://127.0.0.1:9/v1")._params(request)
    assert served["temperature"] == 0.0 and served["max_tokens"] == request.max_tokens
