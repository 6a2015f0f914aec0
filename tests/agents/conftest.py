"""Every test here runs on both renderings (see tests/conftest.py: RENDERINGS)."""

from __future__ import annotations

import pytest

from ..conftest import RENDERINGS, use_rendering


@pytest.fixture(autouse=True, params=RENDERINGS)
def rendering(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    use_rendering(request.param, monkeypatch)
    return request.param
