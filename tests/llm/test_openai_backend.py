"""The openai backend against the fault-injecting test server: retries through the client,
typed errors, no fault text as content, logprobs, model and window discovery, key rules."""

import asyncio

import pytest
from pydantic import SecretStr

from longdoc.config import Settings
from longdoc.errors import (
    ConfigError,
    ContextLengthExceeded,
    EmptyResponse,
    LogprobsUnsupported,
    ModelError,
    ModelUnavailable,
)
from longdoc.llm import CompletionRequest, OpenAIModel, load_model
from longdoc.llm.openai_endpoint import api_key_for
from longdoc.llm.openai_replies import cut_at_stops
from longdoc.testing import Fault, OpenAITestServer

QUESTION = "The vault code is 4417. The garden has roses.\nQuestion: what is the vault code?\nAnswer:"
ANSWER = "The vault code is 4417."


@pytest.fixture
def server():
    with OpenAITestServer(context_window=2048) as running:
        yield running


def model_for(server, **options):
    defaults = {"base_url": server.url, "model": server.model, "max_retries": 2, "timeout": 5.0}
    return OpenAIModel(**{**defaults, **options})


@pytest.mark.parametrize("completion_style", [False, True])
def test_plain_call(server, completion_style):
    model = model_for(server, completion_style=completion_style)
    out = model.complete(CompletionRequest.from_text(QUESTION))
    assert out.text == ANSWER
    assert out.usage.prompt_tokens > 0 and out.usage.completion_tokens == 5
    assert out.cost_usd is None  # no price for a custom endpoint
    path = server.requests[-1].path
    assert path.endswith("/completions") and ("chat" in path) != completion_style


@pytest.mark.parametrize(
    ("fault", "options"),
    [
        (Fault.RATE_LIMIT, {"retry_after": 0.3}),
        (Fault.SERVER_ERROR, {}),
        (Fault.SLOW, {"delay": 3.0}),
    ],
)
def test_transient_faults_are_retried_by_the_client(server, fault, options):
    server.inject(fault, times=2, **options)
    model = model_for(server, timeout=1.0)
    out = model.complete(CompletionRequest.from_text(QUESTION))
    assert out.text == ANSWER
    assert server.stats.faults[fault.value] == 2
    calls = [r for r in server.requests if r.path.endswith("completions")]
    assert [r.headers.get("x-stainless-retry-count") for r in calls] == ["0", "1", "2"]


def test_retry_after_is_honoured(server):
    server.inject(Fault.RATE_LIMIT, times=1, retry_after=0.8)
    model_for(server).complete(CompletionRequest.from_text(QUESTION))
    first, second = (r.at for r in server.requests if r.path.endswith("completions"))
    assert second - first >= 0.75


@pytest.mark.parametrize(
    ("fault", "status", "error"),
    [
        (Fault.RATE_LIMIT, 429, ModelError),
        (Fault.SERVER_ERROR, 500, ModelError),
        (Fault.SLOW, None, ModelError),
    ],
)
def test_persistent_faults_raise_typed_errors_with_attempts(server, fault, status, error):
    server.inject(fault, times=10, retry_after=0.05, delay=3.0)
    model = model_for(server, timeout=0.5, max_retries=2)
    with pytest.raises(error) as caught:
        model.complete(CompletionRequest.from_text(QUESTION))
    assert caught.value.status == status
    assert caught.value.attempts == 3
    assert caught.value.model == server.model


def test_context_length_error_is_typed_with_numbers(server):
    model = model_for(server)
    long_prompt = "word " * 3000 + "\nQuestion: anything?\nAnswer:"
    with pytest.raises(ContextLengthExceeded) as caught:
        model.complete(CompletionRequest.from_text(long_prompt))
    assert caught.value.window == 2048
    assert caught.value.prompt_tokens > 2048
    assert caught.value.attempts == 1  # a 400 is not retried


def test_empty_and_malformed_responses_are_errors(server):
    model = model_for(server)
    server.inject(Fault.EMPTY)
    with pytest.raises(EmptyResponse):
        model.complete(CompletionRequest.from_text(QUESTION))
    server.inject(Fault.MALFORMED)
    with pytest.raises(ModelError) as caught:
        model.complete(CompletionRequest.from_text(QUESTION))
    assert caught.value.status == 200


def test_no_fault_text_is_ever_returned_as_content(server):
    model = model_for(server, timeout=0.5, max_retries=1)
    texts = []
    for fault in Fault:
        for times in (1, 5):
            server.inject(fault, times=times, retry_after=0.05, delay=2.0)
            for style in (False, True):
                try:
                    out = model_for(server, timeout=0.5, max_retries=1, completion_style=style).complete(
                        CompletionRequest.from_text(QUESTION)
                    )
                    texts.append(out.text)
                except ModelError:
                    pass
            server.reset()
    assert texts, "some calls should have recovered"
    assert all(text == ANSWER for text in texts)
    assert model.complete(CompletionRequest.from_text(QUESTION)).text == ANSWER


@pytest.mark.parametrize("completion_style", [False, True])
def test_logprobs_top_k(server, completion_style):
    model = model_for(server, completion_style=completion_style)
    out = model.complete(CompletionRequest.from_text(QUESTION, logprobs=3))
    assert len(out.logprobs) == len(out.text.split())
    first = out.logprobs[0]
    assert first.token == "The" and len(first.top) == 3
    assert first.top[0][1] >= first.top[1][1]


def test_missing_logprobs_is_a_typed_error():
    with OpenAITestServer(logprobs=False) as server, pytest.raises(LogprobsUnsupported):
        model_for(server).complete(CompletionRequest.from_text(QUESTION, logprobs=2))


def test_async_calls(server):
    model = model_for(server)

    async def run():
        return await asyncio.gather(*(model.acomplete(CompletionRequest.from_text(QUESTION)) for _ in range(3)))

    assert [c.text for c in asyncio.run(run())] == [ANSWER] * 3
    # a second event loop works as well as the first
    assert asyncio.run(model.acomplete(CompletionRequest.from_text(QUESTION))).text == ANSWER


def test_model_and_window_are_discovered_from_the_server(server):
    model = model_for(server, model=None)
    assert model.name == "test-model"
    assert model.context_window == 2048
    assert model_for(server, window=1024).context_window == 1024


def test_several_served_models_need_a_choice():
    with OpenAITestServer(models=("alpha", "beta")) as server, pytest.raises(ConfigError, match="alpha, beta"):
        _ = model_for(server, model=None).name
    with OpenAITestServer(models=("alpha", "gpt-4o-mini")) as server:
        assert model_for(server, model=None).name == "gpt-4o-mini"


def test_unreachable_endpoint_is_unavailable():
    with OpenAITestServer() as server:
        url = server.url
    with pytest.raises(ModelUnavailable) as caught:
        OpenAIModel(base_url=url, model="m", max_retries=1, timeout=2).complete(
            CompletionRequest.from_text("hi")
        )
    assert caught.value.attempts == 2
    with pytest.raises(ModelUnavailable, match="listing models"):
        _ = OpenAIModel(base_url=url, model=None, max_retries=0).name


def test_the_openai_key_never_goes_to_a_custom_endpoint(server, monkeypatch):
    secret = "sk-user-openai-key"
    monkeypatch.setenv("OPENAI_API_KEY", secret)
    settings = Settings.from_env(base_url=server.url, cache=False)
    assert api_key_for(settings) is None
    load_model(settings).complete(CompletionRequest.from_text(QUESTION))
    assert secret not in server.requests[-1].headers.get("authorization", "")

    monkeypatch.setenv("LONGDOC_API_KEY", "endpoint-key")
    load_model(settings).complete(CompletionRequest.from_text(QUESTION + " again"))
    assert server.requests[-1].headers["authorization"] == "Bearer endpoint-key"


def test_keys_given_for_the_endpoint_are_sent(server, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-paired")
    monkeypatch.setenv("OPENAI_BASE_URL", server.url)
    assert api_key_for(Settings.from_env()) == "sk-paired"  # the pair the client itself uses
    explicit = Settings(base_url=server.url, api_key=SecretStr("explicit-key"))
    assert api_key_for(explicit) == "explicit-key"
    assert api_key_for(Settings(api_key=SecretStr("sk-openai"))) == "sk-openai"


def test_openai_model_without_key_or_endpoint_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="OPENAI_API_KEY"):
        load_model(Settings(model="gpt-4o", cache_dir=tmp_path))


def test_load_model_uses_completion_style_setting(server, tmp_path):
    settings = Settings(base_url=server.url, model=server.model, completion_style=True, cache_dir=tmp_path)
    model = load_model(settings)
    assert model.completion_style
    assert model.complete(CompletionRequest.from_text(QUESTION)).text == ANSWER
    assert server.requests[-1].path == "/v1/completions"


def test_stop_sequences_beyond_what_the_server_applies_are_cut_here(server):
    def replies_with_markers(_request):
        return "alpha ### beta @@@ gamma"

    server.reply = replies_with_markers
    model = model_for(server)
    out = model.complete(CompletionRequest.from_text("x", stop=("@@@",)))
    assert out.text == "alpha ### beta "
    stops = ("a1", "a2", "a3", "a4", "###")
    assert cut_at_stops("alpha ### beta", stops) == "alpha "
    params = OpenAIModel(model="gpt-4o-mini", api_key="k")._params(CompletionRequest.from_text("x", stop=stops))
    assert params["stop"] == ["a1", "a2", "a3", "a4"]


def test_credentials_in_the_base_url_stay_out_of_the_log(server, tmp_path):
    url = server.url.replace("http://", "http://user:hunter2pw@")
    settings = Settings(base_url=url, model=server.model, cache_dir=tmp_path)
    model = load_model(settings)
    assert model.complete(CompletionRequest.from_text(QUESTION)).text == ANSWER
    for path in tmp_path.iterdir():
        data = path.read_bytes()
        assert b"hunter2pw" not in data, path


@pytest.mark.parametrize("completion_style", [False, True])
def test_a_json_schema_is_sent_as_the_server_takes_it(server, completion_style):
    schema = {"type": "object", "properties": {"a": {"type": "integer"}}, "required": ["a"]}
    model = model_for(server, completion_style=completion_style)
    request = CompletionRequest.from_text(QUESTION).model_copy(update={"json_schema": schema})
    model.complete(request)
    body = server.requests[-1].body
    if completion_style:  # a generic completions endpoint has no known field: none is sent
        assert not model.structured_output and "json_schema" not in body and "response_format" not in body
    else:
        assert model.structured_output
        assert body["response_format"]["type"] == "json_schema"
        assert body["response_format"]["json_schema"]["schema"] == schema


def test_the_same_model_under_another_profile_never_shares_a_cached_answer(server, tmp_path):
    chat = load_model(Settings(model=server.model, base_url=server.url, cache_dir=tmp_path))
    based = load_model(Settings(model=server.model, base_url=server.url, cache_dir=tmp_path, profile="base",
                                completion_style=False))
    assert chat.profile.name == "instruct" and based.profile.name == "base"
    request = CompletionRequest.from_text(QUESTION)
    assert not chat.complete(request).cached
    assert not based.complete(request).cached  # same name, endpoint and rendering: other profile
    assert chat.complete(request).cached


def test_a_known_reasoning_model_gets_thinking_room_and_max_output_overrides_it(server):
    thinking = load_model(Settings(model="deepseek-r1-distill-qwen-7b", base_url=server.url))
    assert thinking.profile.reasoning_tokens == 4096
    assert load_model(Settings(model=server.model, base_url=server.url)).profile.reasoning_tokens == 0
    assert load_model(Settings(model="o3-mini", base_url=server.url, max_output=512)).profile.reasoning_tokens == 512


@pytest.mark.parametrize("completion_style", [False, True])
def test_a_seed_is_sent_only_when_set_and_keys_the_cache_only_then(server, completion_style):
    from longdoc.llm.response_cache import sent_json

    model = model_for(server, completion_style=completion_style)
    plain = CompletionRequest.from_text(QUESTION)
    model.complete(plain)
    assert "seed" not in server.requests[-1].body
    seeded = plain.model_copy(update={"temperature": 0.8, "seed": 3})
    model.complete(seeded)
    assert server.requests[-1].body["seed"] == 3
    assert '"seed"' not in sent_json(plain, completion_style)  # keys made before seeds stay valid
    assert '"seed":3' in sent_json(seeded, completion_style)
