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
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LONGDOC_CACHE_DIR", str(tmp_path / "longdoc-cache"))
    monkeypatch.setenv("LONGDOC_MODEL_DIR", str(model_dir))


@pytest.fixture(scope="session")
def ray_cluster():
    """One local Ray runtime with 2 CPUs for the whole session (starting one takes ~10 s):
    the address of its GCS, for drivers started as subprocesses. Skipped without Ray."""
    ray = pytest.importorskip("ray")
    if not ray.is_initialized():
        ray.init(address="local", num_cpus=2, include_dashboard=False, logging_level="WARNING")
    yield ray.get_runtime_context().gcs_address
    ray.shutdown()
