"""The checkpoint relay: an actor's in-memory store, replayed into the driver's, resumes a write."""

import asyncio
import re

import pytest

from longdoc.errors import ModelError
from longdoc.llm.fake import FakeModel, request_text
from longdoc.pipelines.agent_write import AgentWrite
from longdoc.pipelines.checkpoints import batched_sqlite_checkpointer
from longdoc.pipelines.dataset.checkpoint_relay import RelaySqliteSaver
from longdoc.testing.writing import author_reply, is_plan_request


@pytest.fixture(autouse=True)
def rendering() -> str:
    """Executors never look at the rendering: these tests run once, not per rendering
    (overrides the conftest fixture that doubles the tests of this folder)."""
    return "completion"


def section_of(request):
    found = re.findall(r"Section (\d+) of \d+ - ", request_text(request))
    return int(found[-1]) if found else None


def test_relayed_checkpoints_resume_a_write_on_another_store(tmp_path):
    def fails_at_third_section(request):
        if not is_plan_request(request) and section_of(request) == 3:
            raise ModelError("upstream 503", status=503, attempts=1)
        return author_reply(request)

    async def scenario():
        with batched_sqlite_checkpointer(tmp_path / "driver.sqlite", defer_deletes=True) as driver:
            first = RelaySqliteSaver()
            first.load("k", driver.thread_rows("k"))  # nothing stored yet
            with pytest.raises(ModelError):
                await AgentWrite(FakeModel(rule=fails_at_third_section), first).arun("Write about tides.", 900, key="k")
            relayed = first.take("k")
            assert relayed and first.take("k") == []  # taken once
            driver.replay("k", relayed)
            assert driver.thread_ids() == {"k"}

            second = RelaySqliteSaver()  # another actor: starts from the driver's rows only
            second.load("k", driver.thread_rows("k"))
            model = FakeModel(rule=author_reply)
            result = await AgentWrite(model, second).arun("Write about tides.", 900, key="k")
            # The finished write deleted its thread locally only; its last checkpoints still wait.
            with second.cursor(transaction=False) as cur:
                assert cur.execute("SELECT COUNT(*) FROM checkpoints").fetchone()[0] == 0
            assert second.take("k")
            return result, model

    result, model = asyncio.run(scenario())
    assert result.resumed_sections == 2
    assert not any(is_plan_request(r) for r in model.history)  # the plan came from the relay
    assert min(section_of(r) for r in model.history) == 3


def test_changed_is_set_by_a_write_and_cleared_by_take():
    async def scenario():
        store = RelaySqliteSaver()
        changed = store.changed("k")
        assert not changed.is_set()
        await AgentWrite(FakeModel(rule=author_reply), store).arun("Write about reefs.", 300, key="k")
        assert changed.is_set()
        assert store.take("k")
        assert not changed.is_set()
        store.forget("k")
        assert store.take("k") == []

    asyncio.run(scenario())
