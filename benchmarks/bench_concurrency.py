"""Concurrency and overhead of the model stack (limit + cache + client).

1. 200 calls to the fault-injecting test server (its own process) with 100 ms latency, through
   `load_model` (openai backend, semaphore, SQLite cache on with distinct prompts): serially
   (concurrency 1) and at concurrency 16, async and with threads. Ideal speedup = 16.
2. Per-call overhead of the stack with the fake backend and the cache on: the same calls
   through `load_model(fake)` minus the bare FakeModel, for misses (new prompts, one insert
   each) and hits (the same prompts again).

    .venv/bin/python benchmarks/bench_concurrency.py [--calls 200] [--latency 0.1]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _results import markdown_table, write_section

from longdoc.config import Settings
from longdoc.llm import CompletionRequest, FakeModel, load_model


def requests_for(tag: str, n: int) -> list[CompletionRequest]:
    return [
        CompletionRequest.from_text(
            f"Item {i} of run {tag} is stored on shelf {i % 7}.\nQuestion: where is item {i}?\nAnswer:",
            max_tokens=16,
        )
        for i in range(n)
    ]


def run_async(model, requests) -> float:
    async def go():
        return await asyncio.gather(*(model.acomplete(r) for r in requests))

    started = time.perf_counter()
    replies = asyncio.run(go())
    elapsed = time.perf_counter() - started
    assert all(r.text for r in replies)
    return elapsed


def run_threads(model, requests, workers: int) -> float:
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        replies = list(pool.map(model.complete, requests))
    elapsed = time.perf_counter() - started
    assert all(r.text for r in replies)
    return elapsed


@contextlib.contextmanager
def server_process(latency: float) -> Iterator[str]:
    """The test server in its own process (a real server never shares our GIL)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "longdoc.testing", "--latency", str(latency)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        if not url.startswith("http://127.0.0.1:"):
            raise RuntimeError(f"the test server did not start (said {url!r})")
        yield url
    finally:
        assert proc.stdin is not None
        proc.stdin.close()
        proc.wait(timeout=30)


def server_stats(url: str) -> dict[str, object]:
    with urllib.request.urlopen(url.removesuffix("/v1") + "/_stats", timeout=10) as response:
        return json.loads(response.read())


def concurrency_rows(calls: int, latency: float, concurrency: int, cache_dir: Path) -> list[list[object]]:
    rows: list[list[object]] = []
    runners = {
        "async": run_async,
        "threads": lambda m, r: run_threads(m, r, concurrency * 2),
    }
    serial = None
    for level, label in ((1, "async"), (concurrency, "async"), (concurrency, "threads")):
        with server_process(latency) as url:
            settings = Settings(
                base_url=url,
                model="test-model",
                concurrency=level,
                cache_dir=cache_dir / f"{label}-{level}",
                max_retries=0,
            )
            elapsed = runners[label](load_model(settings), requests_for(f"{label}{level}", calls))
            in_flight = server_stats(url)["max_in_flight"]
        if serial is None:
            serial = elapsed
            rows.append([f"{label}, concurrency {level}", calls, elapsed, 1.0, "", in_flight])
            continue
        speedup = serial / elapsed
        rows.append(
            [f"{label}, concurrency {level}", calls, elapsed, speedup, speedup / level, in_flight]
        )
    return rows


def overhead_rows(n: int, cache_dir: Path) -> list[list[object]]:
    bare = FakeModel()
    requests = requests_for("overhead", n)
    started = time.perf_counter()
    for r in requests:
        bare.complete(r)
    bare_s = (time.perf_counter() - started) / n

    model = load_model(Settings(model="fake", cache_dir=cache_dir / "overhead"))
    timings = {}
    for phase in ("miss", "hit"):
        started = time.perf_counter()
        for r in requests:
            model.complete(r)
        timings[phase] = (time.perf_counter() - started) / n
        model.log.flush()  # hits below are read from the file, not from rows still queued

    async def async_hits():
        for r in requests:
            await model.acomplete(r)

    started = time.perf_counter()
    asyncio.run(async_hits())
    timings["hit (async)"] = (time.perf_counter() - started) / n

    rows = [["bare FakeModel", n, bare_s * 1e3, 0.0]]
    for phase, per_call in timings.items():
        rows.append([f"load_model(fake), cache {phase}", n, per_call * 1e3, (per_call - bare_s) * 1e3])
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--latency", type=float, default=0.1)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--overhead-calls", type=int, default=2000)
    parser.add_argument("--no-write", action="store_true", help="print only; leave RESULTS.md alone")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        cache_dir = Path(tmp)
        conc = concurrency_rows(args.calls, args.latency, args.concurrency, cache_dir)
        over = overhead_rows(args.overhead_calls, cache_dir)
        # repeat the overhead measurement: the machine is shared, take the median of 3
        more = [overhead_rows(args.overhead_calls, cache_dir / f"r{i}") for i in range(2)]
        for i, row in enumerate(over):
            row[2] = statistics.median([row[2], *(m[i][2] for m in more)])
            row[3] = statistics.median([row[3], *(m[i][3] for m in more)])

    table1 = markdown_table(
        ["run", "calls", "seconds", "speedup", "share of ideal", "max in flight (server)"], conc
    )
    table2 = markdown_table(["path", "calls", "ms per call", "overhead ms per call"], over)
    body = (
        f"Test server with {args.latency * 1000:.0f} ms injected latency, {args.calls} calls, "
        f"openai backend through `load_model` (limit + SQLite cache, distinct prompts). "
        f"Ideal speedup = {args.concurrency}.\n\n{table1}\n\n"
        f"Per-call overhead of the stack, fake backend, cache on (median of 3 runs of "
        f"{args.overhead_calls} calls; the caller's time: call-log rows are committed by a "
        f"background thread, in batches):\n\n{table2}\n"
    )
    print(body)
    if not args.no_write:
        write_section("bench_concurrency", body)


if __name__ == "__main__":
    main()
