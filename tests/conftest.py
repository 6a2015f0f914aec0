"""Test isolation: no test touches the user's cache, environment endpoint or key."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def model_dir(tmp_path_factory: pytest.TempPathFactory):
    """One folder per test session for the assembled embedded model (assembled once)."""
    return tmp_path_factory.mktemp("models")


@pytest.fixture(autouse=True)
def _isolated_environment(tmp_path, monkeypatch, model_dir):
    for name in (
        "OPENAI_API_KEY",
        "OPENAI_BASE_URL",
        "LONGDOC_MODEL",
        "TIKTOKEN_CACHE_DIR",
        "LONGDOC_API_KEY",
        "LONGDOC_COMPLETION_STYLE",
        "LONGDOC_PROFILE",
        "LONGDOC_MAX_OUTPUT",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LONGDOC_CACHE_DIR", str(tmp_path / "longdoc-cache"))
    monkeypatch.setenv("LONGDOC_MODEL_DIR", str(model_dir))


RENDERINGS = ("completion", "chat")
"""The two renderings every agent and pipeline test runs on: a base model's completion
prompts (profile `base`) and a chat model's messages (profile `instruct`)."""


def use_rendering(rendering: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Make every FakeModel built without an explicit style, and every `--model fake`
    the settings load, use `rendering` (and the profile it implies)."""
    from longdoc.llm.fake import FakeModel

    chat = rendering == "chat"
    original = FakeModel.__init__

    def init(self, *args, **kwargs):
        kwargs.setdefault("completion_style", not chat)
        original(self, *args, **kwargs)

    monkeypatch.setattr(FakeModel, "__init__", init)
    monkeypatch.setenv("LONGDOC_PROFILE", "instruct" if chat else "base")


@pytest.fixture(scope="session")
def ray_cluster():
    """One local Ray runtime with 2 CPUs for the whole session (starting one takes ~10 s):
    the address of its GCS, for drivers started as subprocesses. Skipped without Ray."""
    ray = pytest.importorskip("ray")
    if not ray.is_initialized():
        ray.init(address="local", num_cpus=2, include_dashboard=False, logging_level="WARNING")
    yield ray.get_runtime_context().gcs_address
    ray.shutdown()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """A test that runs the embedded base model (marked `model`) runs on its own rendering
    only: its chat twin would send Gemma 270M base chat messages, which no user does (the
    real chat model's end-to-end tests are in tests/instruct)."""
    deselected = [
        item for item in items
        if item.get_closest_marker("model") and getattr(item, "callspec", None)
        and item.callspec.params.get("rendering") == "chat"
    ]
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = [item for item in items if item not in deselected]
