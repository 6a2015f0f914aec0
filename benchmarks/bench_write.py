"""AgentWrite length control on the embedded model: mean S_l over LongBench-Write prompts
(required length <= 3,000 words) and one 20,000-word write with its wall time.

    .venv/bin/python benchmarks/bench_write.py [--subset N] [--long-words 20000]

The prompts and the long write run in one process against one embedded llama.cpp server
(two slots), the long write alongside the prompts. `--subset N` takes N prompts spread
evenly over the sorted lengths when the whole set cannot finish in the time available;
the table says how many ran. Results are written after every prompt, so an interrupted
run still leaves its measured rows (marked partial). The response cache is off.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._results import markdown_table, write_section
from longdoc.agents.plan import SECTION_WORDS
from longdoc.config import Settings
from longdoc.errors import LongdocError
from longdoc.llm import FakeModel, load_model
from longdoc.pipelines.agent_write import AgentWrite, WriteResult, open_checkpointer
from longdoc.testing.writing import author_reply

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "longwriter" / "longbench_write_en.jsonl"
LONG_INSTRUCTION = (
    "Write a 20000-word history of the lighthouse keepers of the North Atlantic coast, from the "
    "first coal-fired beacons to automation, with the daily life, the storms and the rescues."
)


def spread(items: list[dict], count: int) -> list[dict]:
    """`count` items evenly spaced over `items` sorted by length."""
    ordered = sorted(items, key=lambda r: r["length"])
    if count >= len(ordered):
        return ordered
    step = (len(ordered) - 1) / max(1, count - 1)
    return [ordered[round(i * step)] for i in range(count)]


def report(rows: list[dict], selected: int, eligible: int, long: dict | None, done: bool, settings: str) -> None:
    mean = sum(r["score"] for r in rows) / len(rows) if rows else float("nan")
    status = "complete" if done else "PARTIAL (run still going or interrupted)"
    table = markdown_table(
        ["required words", "type", "words written", "S_l", "sections", "calls", "seconds"],
        [
            [r["target"], r["type"], r["words"], round(r["score"], 1), r["sections"], r["calls"], round(r["seconds"])]
            for r in sorted(rows, key=lambda r: r["target"])
        ],
    )
    earlier_long = None if long is not None or LONG_RECORD is None or not LONG_RECORD.exists() else (
        json.loads(LONG_RECORD.read_text(encoding="utf-8"))
    )
    if earlier_long is not None:
        long = earlier_long
    long_part = "Not run." if long is None else markdown_table(
        ["target words", "words written", "S_l", "sections", "calls", "completion tokens", "wall time"],
        [[
            long["target"], long["words"], round(long["score"], 1), long["sections"], long["calls"],
            long["completion_tokens"], f"{long['seconds'] / 60:.1f} min",
        ]] if "words" in long else [[long["target"], long.get("progress", "(running)"), "", "", "", "", ""]],
    )
    if earlier_long is not None:
        long_part = (
            f"Not run in this run; the last long write of this script (code {earlier_long.get('code', '?')}, "
            f"started {earlier_long.get('started', '?')}):\n\n" + long_part
        )
    standin_part = _standin_table()
    body = f"""Embedded model (Gemma 3 270M base, Q4_K_M, llama.cpp, 2 slots), {settings}; cache off.
Status: **{status}**. Prompts: **{len(rows)} of {selected} selected** ({eligible} LongBench-Write
prompts have a required length <= 3,000 words; a subset spread evenly over the lengths was
chosen because the full set does not finish on 2 shared cores in the time available).

**Mean S_l over {len(rows)} prompts: {mean:.1f}** (target >= 90; published: GPT-4o alone ~50-60,
LongWriter-9B 78.6, AgentWrite on GPT-4o ~90 — those are over all 120 prompts of
LongBench-Write, ours over the subset above).

{table}

One long write on the embedded model ("{LONG_INSTRUCTION[:80]}..."), alongside the prompts:

{long_part}

The same long write through the whole pipeline with the deterministic test author
(`longdoc.testing.writing.author_reply`, FakeModel, 8,192-token window) instead of the model,
so it measures planning at that length, bounded context and the pipeline's own cost, not prose:

{standin_part}
"""
    write_section("bench_write", body)


def _standin_table() -> str:
    if STANDIN is None:
        return "Not run."
    s = STANDIN
    return markdown_table(
        ["target words", "words written", "S_l", "sections", "model calls", "wall time"],
        [[s["target"], s["words"], round(s["score"], 1), s["sections"], s["calls"], f"{s['seconds']:.1f} s"]],
    ) + ("\n\nPlan notes: " + "; ".join(s["plan_notes"]) if s.get("plan_notes") else "")


LONG_RECORD: Path | None = None
"""Where the long write records its progress and result, so a later run without it (say,
the prompts alone on newer code) still reports the last one, labelled as such."""


def save_long(long: dict) -> None:
    if LONG_RECORD is not None:
        LONG_RECORD.write_text(json.dumps(long), encoding="utf-8")


def code_version() -> str:
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True,
                             cwd=Path(__file__).resolve().parents[1])
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return out.stdout.strip()


STANDIN: dict | None = None
"""The long write through the pipeline with the deterministic test author (no model time)."""


async def standin_long_write(words: int, section_words: int) -> dict | None:
    """Plan + write `words` with `longdoc.testing.writing.author_reply` behind FakeModel in an
    8,192-token window: the pipeline's own cost and behaviour at that length (hierarchical
    plan, bounded context), without the embedded model's generation time."""
    if not words:
        return None
    with tempfile.TemporaryDirectory() as folder:
        async with open_checkpointer(Path(folder) / "c.sqlite") as saver:
            pipeline = AgentWrite(FakeModel(rule=author_reply, context_window=8192), saver, section_words=section_words)
            result = await pipeline.arun(LONG_INSTRUCTION.replace("20000", str(words)), words)
    return summarize({"type": "stand-in"}, result) | {"plan_notes": list(result.plan.notes)}


def summarize(item: dict, result: WriteResult) -> dict:
    return {
        "target": result.target_words,
        "type": item.get("type", ""),
        "words": result.words,
        "score": result.length_score,
        "sections": len(result.sections),
        "calls": result.usage.calls,
        "completion_tokens": result.usage.completion_tokens,
        "seconds": result.seconds,
        "plan_source": result.plan.source,
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subset", type=int, default=0, help="prompts to run (0 = all eligible)")
    parser.add_argument("--max-length", type=int, default=3000)
    parser.add_argument("--long-words", type=int, default=20_000, help="0 to skip the long write")
    parser.add_argument("--section-words", type=int, default=SECTION_WORDS)
    parser.add_argument("--window", type=int, default=None)
    parser.add_argument("--standin-words", type=int, default=20_000, help="long write with the test author (0 = skip)")
    parser.add_argument("--parallel", type=int, default=2, help="prompts written at once (server slots)")
    parser.add_argument("--log", type=Path, default=Path("/tmp/bench_write_rows.jsonl"))
    parser.add_argument("--long-record", type=Path, default=Path("/tmp/bench_write_long.json"))
    parser.add_argument(
        "--longest-first", action="store_true",
        help="write the longest prompts first (the same subset; when time may run out, the long prompts are measured)",
    )
    args = parser.parse_args()
    if not DATA.exists():
        sys.exit(f"data not found: {DATA}")
    prompts = [json.loads(line) for line in DATA.read_text(encoding="utf-8").splitlines() if line.strip()]
    eligible = [p for p in prompts if p["length"] <= args.max_length]
    selected = spread(eligible, args.subset) if args.subset else eligible
    if args.longest_first:
        selected = sorted(selected, key=lambda r: -r["length"])
    settings = Settings.from_env(model="local", cache=False, window=args.window)
    model = load_model(settings)
    described = (
        f"window {model.context_window} tokens, sections of ~{args.section_words} words, "
        f"{args.parallel} prompt(s) at a time"
    )
    rows: list[dict] = []
    global LONG_RECORD
    LONG_RECORD = args.long_record
    started_at = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    long: dict | None = (
        {"target": args.long_words, "code": code_version(), "started": started_at} if args.long_words else None
    )
    global STANDIN
    STANDIN = await standin_long_write(args.standin_words, args.section_words)
    print(f"stand-in author: {STANDIN}", flush=True)
    checkpoint = Path("/tmp/bench_write_checkpoints.sqlite")
    async with open_checkpointer(checkpoint) as saver:
        pipeline = AgentWrite(model, saver, window=args.window, section_words=args.section_words)

        long_started = time.perf_counter()
        long_words_so_far = 0

        def on_section(draft, count):
            nonlocal long_words_so_far
            long_words_so_far += draft.words
            print(f"  long write: section {draft.index + 1}/{count} {draft.words}/{draft.budget}", flush=True)
            if long is not None and "words" not in long:
                long["progress"] = (
                    f"(running: {draft.index + 1} of {count} sections, {long_words_so_far} words, "
                    f"{(time.perf_counter() - long_started) / 60:.0f} min so far)"
                )
                save_long(long)
                report(rows, len(selected), len(eligible), long, False, described)

        long_pipeline = AgentWrite(model, saver, window=args.window, section_words=args.section_words, on_section=on_section)

        done_before = {}
        if args.log.exists():
            for line in args.log.read_text(encoding="utf-8").splitlines():
                logged = json.loads(line)
                done_before[(logged["prompt"], logged["target"])] = logged

        slots = asyncio.Semaphore(args.parallel)

        async def run_prompts() -> None:
            await asyncio.gather(*(run_prompt(item) for item in selected))

        async def run_prompt(item: dict) -> None:
            async with slots:
                started = time.perf_counter()
                logged = done_before.get((item["prompt"], item["length"]))
                if logged is not None:  # measured by an earlier, interrupted run of this script
                    rows.append({k: v for k, v in logged.items() if k != "prompt"})
                    return
                try:
                    result = await pipeline.arun(item["prompt"], item["length"])
                except LongdocError as exc:  # a failed write scores 0, it is not skipped
                    print(f"write failed: {exc}", flush=True)
                    row = {"target": item["length"], "type": item.get("type", ""), "words": 0, "score": 0.0,
                           "sections": 0, "calls": 0, "completion_tokens": 0, "seconds": 0.0, "plan_source": "failed"}
                else:
                    row = summarize(item, result)
                rows.append(row)
                with args.log.open("a") as log:
                    log.write(json.dumps(row | {"prompt": item["prompt"]}) + "\n")
                print(f"[{len(rows)}/{len(selected)}] {row['words']}/{row['target']} S_l {row['score']:.1f} "
                      f"({time.perf_counter() - started:.0f}s, plan {row['plan_source']})", flush=True)
                report(rows, len(selected), len(eligible), long, False, described)

        async def run_long() -> None:
            nonlocal long
            result = await long_pipeline.arun(LONG_INSTRUCTION, args.long_words)
            long = summarize({"type": "long"}, result) | {k: long[k] for k in ("code", "started")}
            save_long(long)
            print(f"long write: {result.words} words in {result.seconds / 60:.1f} min", flush=True)
            report(rows, len(selected), len(eligible), long, False, described)

        tasks = [run_prompts()] + ([run_long()] if args.long_words else [])
        await asyncio.gather(*tasks)
    report(rows, len(selected), len(eligible), long, True, described)


if __name__ == "__main__":
    asyncio.run(main())
