"""Bounded concurrency: the server never sees more calls in flight than the limit."""

import asyncio
from concurrent.futures import ThreadPoolExecutor

import pytest

from longdoc.config import Settings
from longdoc.errors import ConfigError, InvalidValue
from longdoc.llm import BoundedModel, CompletionRequest, ConcurrencyLimit, FakeModel, load_model
from longdoc.llm.limits import endpoint_limit
from longdoc.llm.round_robin import RoundRobinModel
from longdoc.testing import Fault, OpenAITestServer


@pytest.fixture
def slow_server():
    with OpenAITestServer(latency=0.05) as server:
        yield server


def settings_for(server, tmp_path, concurrency):
    return Settings(
        base_url=server.url, model=server.model, concurrency=concurrency, cache=False, cache_dir=tmp_path
    )


def test_async_gather_never_exceeds_the_limit(slow_server, tmp_path):
    model = load_model(settings_for(slow_server, tmp_path, 4))
    requests = [CompletionRequest.from_text(f"call {i}") for i in range(24)]

    async def run():
        return await asyncio.gather(*(model.acomplete(r) for r in requests))

    replies = asyncio.run(run())
    assert len(replies) == 24
    assert slow_server.stats.max_in_flight == 4
    assert slow_server.stats.completions == 24


def test_threads_never_exceed_the_limit(slow_server, tmp_path):
    model = load_model(settings_for(slow_server, tmp_path, 3))
    with ThreadPoolExecutor(max_workers=12) as pool:
        replies = list(pool.map(lambda i: model.complete(CompletionRequest.from_text(f"t {i}")), range(18)))
    assert len(replies) == 18
    assert slow_server.stats.max_in_flight == 3


def test_limit_holds_through_retries(slow_server, tmp_path):
    slow_server.inject(Fault.RATE_LIMIT, times=6, retry_after=0.05)
    model = load_model(settings_for(slow_server, tmp_path, 2))

    async def run():
        return await asyncio.gather(*(model.acomplete(CompletionRequest.from_text(f"r {i}")) for i in range(8)))

    assert len(asyncio.run(run())) == 8
    assert slow_server.stats.max_in_flight <= 2


def test_models_on_one_endpoint_share_one_limit(slow_server, tmp_path):
    settings = settings_for(slow_server, tmp_path, 2)
    first, second = load_model(settings), load_model(settings)

    async def run():
        calls = [m.acomplete(CompletionRequest.from_text(f"s {i}")) for i in range(6) for m in (first, second)]
        return await asyncio.gather(*calls)

    asyncio.run(run())
    assert slow_server.stats.max_in_flight == 2


def test_limit_works_across_event_loops():
    model = BoundedModel(FakeModel(), ConcurrencyLimit(2))
    for _ in range(2):
        reply = asyncio.run(model.acomplete(CompletionRequest.from_text("a. Question: a?")))
        assert reply.text == "a."
    assert model.history  # the wrapped model's extras stay reachable


def test_registry_returns_one_limit_per_endpoint_and_size():
    assert endpoint_limit("x", 3) is endpoint_limit("x", 3)
    assert endpoint_limit("x", 3) is not endpoint_limit("y", 3)
    with pytest.raises(ValueError):
        ConcurrencyLimit(0)


def test_a_limit_below_one_is_an_invalid_value_in_the_error_tree():
    with pytest.raises(InvalidValue) as caught:
        ConcurrencyLimit(0)
    assert isinstance(caught.value, ConfigError) and caught.value.setting == "concurrency" and caught.value.value == 0
    with pytest.raises(InvalidValue, match="at least one model"):
        RoundRobinModel([])
