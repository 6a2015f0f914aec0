"""Backends by name: the built-ins, a plugin's through its entry point, and the errors."""

import sys

import pytest

from longdoc.config import Settings
from longdoc.errors import ConfigError
from longdoc.llm import CompletionRequest, FakeModel, LocalModel, OpenAIModel, load_model
from longdoc.llm.factory import backend_for
from longdoc.llm.registry import (
    ENTRY_POINT_GROUP,
    BackendRegistry,
    backend_registry,
    forget_backends,
)

PLUGIN = '''
from longdoc.llm.fake import FakeModel


class EchoModel(FakeModel):
    """Answers with the prompt, shouted."""

    cache_identity = "echo:v1"

    @classmethod
    def from_settings(cls, settings):
        return cls(name="echo-1", rule=lambda request: request.prompt.upper(), context_window=settings.window or 2048)


def register_backends(register):
    register("echo", EchoModel.from_settings, description="repeats the prompt")
'''


def install_plugin(root, entry_points: str, module: str | None = None) -> None:
    """A distribution `echo-plugin` in `root`: its module (if any) and a dist-info whose
    entry_points.txt holds `entry_points` under the backends group."""
    if module is not None:
        (root / "echo_plugin.py").write_text(module, encoding="utf-8")
    info = root / "echo_plugin-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: echo-plugin\nVersion: 1.0\n", encoding="utf-8")
    (info / "entry_points.txt").write_text(f"[{ENTRY_POINT_GROUP}]\n{entry_points}\n", encoding="utf-8")


@pytest.fixture
def fresh_registry():
    """The registry read again for this test (after its plugin is installed), and again after;
    the plugin's module imported afresh."""
    forget_backends()
    sys.modules.pop("echo_plugin", None)
    yield
    sys.modules.pop("echo_plugin", None)
    forget_backends()


def test_the_builtin_backends_register_themselves(tmp_path):
    registry = backend_registry()
    assert {"fake", "local", "local-instruct", "openai"} <= set(registry.names())
    assert all(registry.get(name).origin == "longdoc" for name in ("fake", "local", "local-instruct", "openai"))
    assert isinstance(backend_for(Settings(model="fake", cache_dir=tmp_path)), FakeModel)
    assert isinstance(backend_for(Settings(model="local", cache_dir=tmp_path)), LocalModel)
    # a model name that no backend is registered as is a model at an endpoint
    served = backend_for(Settings(model="qwen2.5:7b", base_url="http://127.0.0.1:9/v1", cache_dir=tmp_path))
    assert isinstance(served, OpenAIModel) and served.name == "qwen2.5:7b"


def test_a_plugin_backend_is_found_through_its_entry_point_and_loaded(tmp_path, monkeypatch, fresh_registry):
    install_plugin(tmp_path, "echo = echo_plugin:register_backends", PLUGIN)
    monkeypatch.syspath_prepend(str(tmp_path))
    backend = backend_registry().get("echo")
    assert backend.description == "repeats the prompt"
    assert "echo = echo_plugin:register_backends" in backend.origin and "echo-plugin 1.0" in backend.origin

    model = load_model(Settings(model="echo", cache_dir=tmp_path / "cache"))
    assert model.name == "echo-1" and model.context_window == 2048
    first = model.complete(CompletionRequest.from_text("hello there"))
    again = model.complete(CompletionRequest.from_text("hello there"))
    assert first.text == "HELLO THERE" and not first.cached
    assert again.cached and again.text == "HELLO THERE"  # wrapped like every backend: cached
    assert model.cache_identity == "echo:v1"


def test_a_plugin_that_cannot_be_imported_is_named_in_the_error(tmp_path, monkeypatch, fresh_registry):
    install_plugin(tmp_path, "broken = no_such_module_for_longdoc:register_backends")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(ConfigError) as caught:
        load_model(Settings(model="fake", cache_dir=tmp_path / "cache"))
    message = str(caught.value)
    assert "broken = no_such_module_for_longdoc:register_backends" in message
    assert "echo-plugin 1.0" in message and "ModuleNotFoundError" in message


def test_a_plugin_that_fails_to_register_is_named_in_the_error(tmp_path, monkeypatch, fresh_registry):
    failing = "def register_backends(register):\n    raise RuntimeError('no licence file')\n"
    install_plugin(tmp_path, "echo = echo_plugin:register_backends", failing)
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(ConfigError, match=r"echo = echo_plugin:register_backends.*failed to register.*no licence"):
        backend_registry()


def test_a_plugin_cannot_take_a_builtin_name(tmp_path, monkeypatch, fresh_registry):
    plugin = PLUGIN.replace('register("echo"', 'register("local"')
    install_plugin(tmp_path, "echo = echo_plugin:register_backends", plugin)
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(ConfigError, match=r"backend 'local' from entry point echo = .* already registered by longdoc"):
        backend_registry()


def test_an_unknown_backend_name_lists_the_registered_ones(tmp_path, monkeypatch):
    registry = BackendRegistry()
    registry.register("fake", lambda settings: FakeModel())
    with pytest.raises(ConfigError, match="unknown backend 'openai'; registered: fake"):
        registry.for_model("gpt-4o-mini")
    monkeypatch.delenv("LONGDOC_API_KEY", raising=False)
    with pytest.raises(ConfigError) as caught:
        load_model(Settings(model="no-such-model", cache_dir=tmp_path))
    assert "needs an endpoint" in str(caught.value)
    assert "'no-such-model' is no registered backend: fake, local, local-instruct, openai" in str(caught.value)
