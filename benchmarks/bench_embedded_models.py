"""The two embedded models side by side, in one run: which should be the default?

    python benchmarks/bench_embedded_models.py [--models local,local-instruct] [--no-write]

On each embedded model, one after the other in this process (one llama.cpp server each,
never two decoding at once): `eval qa` on L-Eval questions (QuALITY multiple choice and
Natural Questions short answers; xl3m with the lexical scorer, the truncate baseline and
the chain), the shared needle at two depths, `eval length` on short LongBench-Write
prompts, and a summary of this repository (seconds, calls, and the text itself). Reported
per model: accuracy (QuALITY), F1 and answer-or-shown-evidence (Natural Questions), the
share of final answers that are the model's own reply (no fallback), seconds per
question, needle answered, length score, and the summary. The response cache is off.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks._results import markdown_table, write_section
from longdoc.api import summarize
from longdoc.config import Settings
from longdoc.evals.qa import run_qa, summarize_rows
from longdoc.evals.qa_data import parse_record
from longdoc.llm import load_model

LEVAL = ROOT / ".." / "shared" / "data" / "leval"
WRITING = ROOT / ".." / "shared" / "data" / "longwriter" / "longbench_write_en.jsonl"
PICKS = ("quality:1:4", "quality:8:3", "natural_question:17:3")
"""Short documents (2-6k tokens), so both models finish on two cores in minutes."""
STRATEGIES = ("xl3m", "truncate", "chain")
WINDOW = 4096


def picked_items(picks):
    items = []
    for pick in picks:
        name, line, count = pick.split(":")
        path = LEVAL / f"{name}.jsonl"
        record = json.loads(path.read_text(encoding="utf-8").splitlines()[int(line)])
        for q in parse_record(record, path=path, line=int(line) + 1)[: int(count)]:
            items.append(q.model_copy(update={"id": f"{name}:{q.id}"}))
    return items


def pct(value):
    return "-" if value is None else f"{100 * value:.0f}"


def measure(model_name: str, items, lengths, strategies) -> dict:
    settings = Settings(model=model_name, window=WINDOW, concurrency=2, cache=False,
                        cache_dir=Path(tempfile.mkdtemp(prefix="embedded-")))
    model = load_model(settings)
    started = time.perf_counter()
    rows = run_qa(items, list(strategies), model, settings=settings, window=WINDOW, scorer="lexical",
                  progress=lambda d, t, r, _: print(f"[{model_name}] {d}/{t} {r.id} {r.strategy} {r.seconds:.0f}s "
                                                     f"answer={r.answer[:60]!r} gold={r.gold[0][:40]!r}",
                                                     file=sys.stderr, flush=True))
    qa_seconds = time.perf_counter() - started
    out: dict = {"model": model.name, "profile": model.profile.name, "rows": rows}
    for dataset in ("quality", "natural_question"):
        mine = [r for r in rows if r.id.startswith(dataset + ":")]
        out[dataset] = summarize_rows(mine, list(strategies))
    ok = [r for r in rows if r.status == "ok"]
    out["own_answers"] = sum(not r.fallback for r in ok) / max(1, len(ok))
    out["as_written"] = sum(r.answer == (r.raw_answer or "").strip() for r in ok) / max(1, len(ok))
    out["seconds_per_question"] = qa_seconds / max(1, len(items))

    from longdoc.pipelines.agent_write import AgentWrite, open_checkpointer
    from longdoc.pipelines.length_eval import evaluate_length

    async def write_lengths():
        async with open_checkpointer(settings.cache_dir / "write.sqlite") as saver:
            return await evaluate_length(lengths, AgentWrite(model, saver, window=WINDOW), concurrency=1)

    t = time.perf_counter()
    report = asyncio.run(write_lengths())
    out["length"] = report
    out["length_seconds"] = time.perf_counter() - t

    t = time.perf_counter()
    summary = summarize(ROOT, settings=settings.model_copy(update={"window": None}), model=model)
    out["summary"] = summary
    out["summary_seconds"] = time.perf_counter() - t
    print(f"[{model_name}] summary ({summary.usage.calls} calls, fallback={summary.fallback}):\n{summary.answer}",
          file=sys.stderr, flush=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="local,local-instruct")
    parser.add_argument("--lengths", type=int, default=2, help="LongBench-Write prompts (the shortest)")
    parser.add_argument("--pick", action="append", default=[], metavar="FILE:LINE:N",
                        help=f"questions: the first N of line LINE of FILE (default {' '.join(PICKS)})")
    parser.add_argument("--strategies", default=",".join(STRATEGIES))
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    from longdoc.pipelines.length_eval import read_length_prompts

    picks = args.pick or list(PICKS)
    strategies = [s for s in args.strategies.split(",") if s]
    items = picked_items(picks)
    lengths = sorted(read_length_prompts(WRITING), key=lambda p: p.length)[: args.lengths]
    results = [measure(name, items, lengths, strategies) for name in args.models.split(",")]

    table = []
    for r in results:
        q, nq = r["quality"], r["natural_question"]
        table.append([
            r["model"], r["profile"],
            " / ".join(pct(q[s].accuracy) for s in strategies),
            " / ".join(pct(nq[s].f1) for s in strategies),
            " / ".join(pct(nq[s].answer_or_evidence) for s in strategies),
            pct(r["own_answers"]),
            pct(r["as_written"]),
            round(r["seconds_per_question"], 1),
            round(r["length"].mean_length_score, 1) if r["length"].rows else "-",
            f"{r['summary_seconds']:.0f} s, {r['summary'].usage.calls} calls" + (" (fallback)" if r["summary"].fallback else ""),
        ])
    summaries = "\n\n".join(
        f"**{r['model']}**, summary of this repository ({r['summary_seconds']:.0f} s):\n\n> "
        + r["summary"].answer.replace("\n", "\n> ")
        for r in results
    )
    body = (
        f"Both embedded models in one run, one after the other, on the shared 2-core machine; window {WINDOW}, "
        f"concurrency 2, cache off. Questions: {', '.join(picks)} (FILE:LINE:N of ../shared/data/leval), "
        f"{len(items)} in all; strategies {' / '.join(strategies)} (xl3m with the lexical scorer). "
        "`own answers` = share of final answers that are the model's reply (not a fallback); `as written` = "
        "share equal to the model's logged reply, only stripped (a base model's reply is cleaned of cues and "
        "echoes, so it is lower there by design). "
        "Seconds per question cover all the strategies. Load from other jobs on the machine inflates every "
        "time here (see the load note below the table).\n\n"
        + markdown_table(
            ["model", "profile", "QuALITY accuracy %", "NQ F1 %", "NQ answer or shown evidence %",
             "own answers %", "as written %", "s / question", "length S_l", "repository summary"],
            table,
        )
        + "\n\n" + summaries
    )
    print(body)
    if not args.no_write:
        write_section("embedded-models", body)


if __name__ == "__main__":
    main()
