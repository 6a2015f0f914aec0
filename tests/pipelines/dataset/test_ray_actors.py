"""Dataset generation on Ray actors: same rows as one process, actors killed mid-prompt."""

import json
import sqlite3

import pytest

from longdoc.config import Settings
from longdoc.llm import load_model
from longdoc.pipelines.checkpoints import BatchedSqliteSaver
from longdoc.pipelines.dataset.generate import checkpoint_path_for, generate_dataset
from longdoc.pipelines.dataset.input import PromptItem
from longdoc.pipelines.dataset.options import DatasetOptions
from longdoc.testing.openai_server import OpenAITestServer
from longdoc.testing.writing import author_reply

pytest.importorskip("ray")


@pytest.fixture(autouse=True)
def rendering() -> str:
    """Executors never look at the rendering: these tests run once, not per rendering
    (overrides the conftest fixture that doubles the tests of this folder)."""
    return "completion"


def rows(path):
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def dataset(settings, folder, items, **options):
    folder.mkdir()
    out = folder / "out.jsonl"
    report = generate_dataset(items, load_model(settings), out, options=DatasetOptions(**options), settings=settings)
    return report, rows(out)


def canonical(found):
    return sorted(json.dumps(r, sort_keys=True) for r in found)


@pytest.mark.timeout(120)
def test_ray_actors_write_the_same_rows_as_one_process(tmp_path, ray_cluster):
    items = [PromptItem(line=i + 1, prompt=f"Write about harbour {i}.", words=300 + 100 * (i % 3)) for i in range(6)]
    settings = Settings.from_env(model="fake", concurrency=4, cache=False, cache_dir=tmp_path / "cache")
    alone, alone_rows = dataset(settings, tmp_path / "one", items, concurrency=4)
    spread, spread_rows = dataset(settings, tmp_path / "ray", items, concurrency=4, processes=2, ray="local")
    assert (alone.processes, spread.processes) == (1, 2)
    assert spread.written == len(spread_rows) == len(items) and not spread.failed
    assert canonical(spread_rows) == canonical(alone_rows)
    assert spread.calls == alone.calls and spread.prompt_tokens == alone.prompt_tokens
    assert spread.cpu_seconds > alone.cpu_seconds  # the actors' CPU is counted too
    with sqlite3.connect(checkpoint_path_for(tmp_path / "ray" / "out.jsonl")) as conn:
        assert conn.execute("SELECT COUNT(*) FROM checkpoints").fetchone()[0] == 0


@pytest.mark.timeout(180)
def test_actors_killed_mid_prompt_leave_every_prompt_once_resumed_from_its_sections(
    tmp_path, ray_cluster, monkeypatch
):
    import ray

    from longdoc.pipelines.dataset import ray_actors as dataset_ray

    started = []
    start = dataset_ray._ActorPool._start

    def recorded_start(self, share):
        actor = start(self, share)
        started.append(actor)
        return actor

    killed = []
    replay = BatchedSqliteSaver.replay
    sections: dict[str, int] = {}

    def replay_then_kill(self, thread_id, statements):
        replay(self, thread_id, statements)
        sections[thread_id] = sections.get(thread_id, 0) + 1
        if not killed and sections[thread_id] >= 3:  # a prompt past its plan and a section
            killed.extend(started)
            for actor in started:  # every actor: whatever each was writing is cut short
                ray.kill(actor)

    monkeypatch.setattr(dataset_ray._ActorPool, "_start", recorded_start)
    monkeypatch.setattr(BatchedSqliteSaver, "replay", replay_then_kill)
    items = [PromptItem(line=i + 1, prompt=f"Write about lane {i}.", words=700) for i in range(4)]
    with OpenAITestServer(reply=author_reply, latency=0.02) as server:
        settings = Settings.from_env(
            base_url=server.url, model=server.model, concurrency=4, cache=False, cache_dir=tmp_path / "cache", max_retries=0
        )
        report, found = dataset(settings, tmp_path / "ray", items, concurrency=4, processes=2, ray="local", with_meta=True)
    assert len(killed) == 2 and len(started) > 2  # both actors died and were replaced
    assert not report.failed and report.written == len(items)
    assert sorted(r["messages"][0]["content"] for r in found) == sorted(i.prompt for i in items)
    assert len({r["id"] for r in found}) == len(items)
    assert any(r["meta"]["resumed_sections"] > 0 for r in found)  # continued, not restarted


TWO_NODES = """
import asyncio, json, sys
from pathlib import Path
import ray
from ray.cluster_utils import Cluster
from longdoc.config import Settings
from longdoc.llm import load_model
from longdoc.pipelines.dataset import ray_actors as dataset_ray
from longdoc.pipelines.dataset.generate import generate_dataset
from longdoc.pipelines.dataset.options import DatasetOptions
from longdoc.pipelines.dataset.input import PromptItem

cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1, "include_dashboard": False})
cluster.add_node(num_cpus=1)
ray.init(address=cluster.address, logging_level="WARNING")
nodes = []
start = dataset_ray._ActorPool._start
def recorded_start(self, share):
    actor = start(self, share)
    nodes.append(ray.get(actor.node.remote()).split(":")[0])
    return actor
dataset_ray._ActorPool._start = recorded_start
items = [PromptItem(line=i + 1, prompt=f"Write about quay {i}.", words=300) for i in range(4)]
settings = Settings.from_env(model="fake", concurrency=2, cache=False)
out = Path(sys.argv[1])
report = generate_dataset(items, load_model(settings), out,
    options=DatasetOptions(concurrency=2, processes=2, ray=cluster.address), settings=settings)
print(json.dumps({"nodes": len(set(nodes)), "written": report.written, "processes": report.processes}))
ray.shutdown()
cluster.shutdown()
"""


@pytest.mark.slow  # two Ray nodes started from scratch: ~30 s on 2 busy cores
@pytest.mark.timeout(240)
def test_actors_spread_over_two_nodes_write_every_prompt_once(tmp_path):
    import os
    import subprocess
    import sys

    out = tmp_path / "out.jsonl"
    done = subprocess.run(
        [sys.executable, "-c", TWO_NODES, str(out)], capture_output=True, text=True, timeout=220, env=dict(os.environ)
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result == {"nodes": 2, "written": 4, "processes": 2}
    assert len({r["id"] for r in rows(out)}) == 4
