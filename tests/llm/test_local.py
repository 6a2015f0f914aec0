"""The embedded model (Gemma 3 270M via xllamacpp): real calls, kept tiny."""

import asyncio

import pytest

from longdoc.config import Settings
from longdoc.errors import ContextLengthExceeded
from longdoc.llm import CompletionRequest, LocalModel, OpenAIModel, load_model
from longdoc.llm.local import LOCAL_MODEL_NAME, LOCAL_WINDOW, assemble_model, model_dir

pytestmark = pytest.mark.model

PROMPT = "The capital of France is Paris. The capital of Italy is"


def test_local_completion_with_usage_and_logprobs(tmp_path):
    model = load_model(Settings(model="local", cache_dir=tmp_path))
    assert model.completion_style and model.context_window == LOCAL_WINDOW
    out = model.complete(CompletionRequest.from_text(PROMPT, max_tokens=6, stop=("\n",), logprobs=3))
    assert out.text.strip()
    assert out.usage.prompt_tokens > 5 and 0 < out.usage.completion_tokens <= 6
    assert out.cost_usd is None
    assert out.logprobs and len(out.logprobs[0].top) == 3
    assert "Rome" in out.logprobs[0].token or any("Rome" in t for t, _ in out.logprobs[0].top)
    again = model.complete(CompletionRequest.from_text(PROMPT, max_tokens=6, stop=("\n",), logprobs=3))
    assert again.cached and again.text == out.text


def test_local_async_calls_run_together(tmp_path):
    model = load_model(Settings(model="local", cache_dir=tmp_path, cache=False))

    async def run():
        requests = [CompletionRequest.from_text(f"One, two, three, four, {n}", max_tokens=3) for n in ("five", "six")]
        return await asyncio.gather(*(model.acomplete(r) for r in requests))

    replies = asyncio.run(run())
    assert all(r.text.strip() for r in replies)


def test_openai_backend_on_the_embedded_server(tmp_path):
    local = LocalModel(cache_dir=tmp_path)
    url = local.endpoint_url  # the real llama.cpp OpenAI-compatible server
    client = OpenAIModel(base_url=url, model=None, completion_style=True, max_retries=0, timeout=120)
    assert client.name == LOCAL_MODEL_NAME  # the server's only model
    assert client.context_window == LOCAL_WINDOW  # from /v1/models meta.n_ctx
    out = client.complete(CompletionRequest.from_text(PROMPT, max_tokens=4, logprobs=2))
    assert out.text.strip() and out.usage.completion_tokens > 0
    assert len(out.logprobs[0].top) == 2


def test_model_file_is_assembled_once_and_verified(tmp_path):
    directory = model_dir(tmp_path)
    path = assemble_model(directory)
    stamp = path.with_name(path.name + ".verified")
    assert path.stat().st_size > 100_000_000 and stamp.exists()
    assert assemble_model(directory) == path  # the stamp skips rehashing


def test_prompt_beyond_the_window_is_a_typed_error(tmp_path):
    model = load_model(Settings(model="local", cache_dir=tmp_path))
    with pytest.raises(ContextLengthExceeded) as caught:
        model.complete(CompletionRequest.from_text("word " * 9000 + "\nAnswer:", max_tokens=4))
    assert caught.value.window == LOCAL_WINDOW
    assert caught.value.prompt_tokens > LOCAL_WINDOW
