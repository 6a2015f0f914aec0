"""Writing plans on a model: prose lines vs JSON under a schema, validity without repair.

    python benchmarks/bench_plans.py [--prompts 20] [--model local] [--no-write]

For each LongBench-Write prompt (`--prompts` of those of 1,000 to 3,000 words, spread over
that range, so that each plan is one level of 3 to 9 sections), the planner asks once, with no re-ask
(`retries=0`), in both modes: `prose` (the LongWriter line format, parsed) and `schema`
(JSON constrained by `plan_schema()`, where the backend follows a schema). A plan is
valid without repair when that one call gave exactly the sections asked for, each with a
main point and a word count (`Plan.source == "model"`). The two modes alternate prompt by
prompt, so a slower or busier stretch of the machine hits both. The cache is off.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._results import markdown_table, write_section
from longdoc.agents.plan import section_count
from longdoc.agents.planner import PlannerAgent
from longdoc.config import Settings
from longdoc.llm import load_model
from longdoc.llm.base import supports_schema

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "longwriter" / "longbench_write_en.jsonl"


async def plan_once(model, instruction: str, words: int, structured: bool) -> dict:
    agent = PlannerAgent(model, retries=0, structured=structured)
    started = time.perf_counter()
    plan = await agent.aplan(instruction, words)
    return {
        "valid": plan.source == "model",
        "source": plan.source,
        "sections": len(plan.sections),
        "expected": section_count(words),
        "seconds": time.perf_counter() - started,
        "completion_tokens": agent.usage.completion_tokens,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prompts", type=int, default=20)
    parser.add_argument("--model", default="local")
    parser.add_argument("--no-write", action="store_true", help="print only; leave RESULTS.md alone")
    args = parser.parse_args()

    items = [json.loads(line) for line in DATA.read_text(encoding="utf-8").splitlines() if line.strip()]
    items = sorted((i for i in items if 1000 <= i["length"] <= 3000), key=lambda i: i["length"])
    step = (len(items) - 1) / max(1, args.prompts - 1)
    items = [items[round(k * step)] for k in range(min(args.prompts, len(items)))]
    settings = Settings.from_env(model=args.model, cache=False)
    model = load_model(settings)
    if not supports_schema(model):
        sys.exit(f"{model.name} does not constrain decoding to a schema; nothing to compare")
    rows = {"prose": [], "schema": []}
    for n, item in enumerate(items):
        order = ("prose", "schema") if n % 2 == 0 else ("schema", "prose")
        for mode in order:
            row = asyncio.run(plan_once(model, item["prompt"], item["length"], mode == "schema"))
            rows[mode].append(row)
            print(f"{n + 1}/{len(items)} {mode}: {row}", file=sys.stderr, flush=True)

    table = []
    for mode, found in rows.items():
        valid = sum(r["valid"] for r in found)
        table.append([
            mode, f"{valid}/{len(found)}", round(100 * valid / max(1, len(found)), 1),
            round(sum(r["seconds"] for r in found) / max(1, len(found)), 1),
            round(sum(r["completion_tokens"] for r in found) / max(1, len(found))),
        ])
    body = (
        f"Model `{model.name}` (profile {model.profile.name}), {len(items)} LongBench-Write prompts "
        "(1,000 to 3,000 words: one plan level of 3-9 sections), one planning call each "
        "with no re-ask, modes alternating prompt by prompt. Valid = exactly the sections asked for, "
        "each with a main point and a word count, from that call alone.\n\n"
        + markdown_table(["mode", "valid plans", "valid %", "seconds per plan", "output tokens per plan"], table)
    )
    print(body)
    if not args.no_write:
        write_section(f"plans-{args.model}", body)


if __name__ == "__main__":
    main()
