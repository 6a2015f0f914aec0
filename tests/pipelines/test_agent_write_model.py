"""AgentWrite on the real embedded model (Gemma 3 270M base): a ~600-word write."""

import pytest

from longdoc.agents.length import count_words
from longdoc.config import Settings
from longdoc.pipelines.agent_write import write


@pytest.mark.model
@pytest.mark.timeout(900)
def test_a_600_word_write_lands_within_25_percent(tmp_path):
    settings = Settings.from_env(model="local")
    result = write(
        "Write a 600-word blog post about the benefits of walking every day.",
        600,
        settings=settings,
        checkpoint=tmp_path / "checkpoints.sqlite",
    )
    assert abs(result.words - 600) <= 0.25 * 600, result.to_json()
    assert result.words == count_words(result.text)
    assert len(result.sections) == len(result.plan.sections) >= 2
    assert result.plan.total_words == 600
    assert "walk" in result.text.lower()
