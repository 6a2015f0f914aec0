"""The layers around a backend offer a declared set of attributes, and nothing else of it."""

import pytest

from longdoc.config import Settings
from longdoc.llm import CompletionRequest, FakeModel, OpenAIModel, load_model


def test_a_loaded_model_offers_what_its_wrappers_declare(tmp_path):
    model = load_model(Settings(model="fake", cache_dir=tmp_path))
    model.complete(CompletionRequest.from_text("The sea is wide. Question: is the sea wide?"))
    assert (model.name, model.context_window, model.completion_style) == ("fake", 8192, True)
    assert model.profile.name == "base" and model.structured_output is False
    assert len(model.history) == 1  # the fake's record, declared on every layer
    assert model.cache_identity is None  # the fake declares none
    with pytest.raises(AttributeError):
        model.enqueue  # noqa: B018 - a backend extra no layer declares
    backend = model.inner.inner
    assert isinstance(backend, FakeModel)
    backend.enqueue("scripted")  # reached through `inner`, explicitly
    assert model.complete(CompletionRequest.from_text("again")).text == "scripted"


def test_a_wrapped_endpoint_model_keeps_its_identity(tmp_path):
    settings = Settings(model="m", base_url="http://127.0.0.1:9/v1", cache_dir=tmp_path, window=4096)
    model = load_model(settings)
    assert isinstance(model.inner.inner, OpenAIModel)
    assert model.cache_identity == model.inner.inner.cache_identity == "openai:http://127.0.0.1:9/v1:chat:"
    with pytest.raises(AttributeError):
        model.endpoint_url  # noqa: B018 - only embedded backends have one
