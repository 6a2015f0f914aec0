"""Needle in a haystack on the embedded model: does XL3M selection keep the needle (certainty,
lexical and hybrid scorers), does the answer contain it, and how long does it take against
reading everything with Chain-of-Agents?

    .venv/bin/python benchmarks/bench_needle.py [--lengths 4000,8000,16000,32000]
        [--depths 0,25,50,75,100] [--scorers certainty,lexical,hybrid] [--chain-lengths 4000,8000]
        [--window 2048] [--rows /tmp/needle_rows.jsonl]

Each finished cell is appended to --rows, and a rerun skips cells already there (so a long
sweep can be stopped and resumed); the table is written from all rows in the file. The
call cache lives in a fresh folder per run, so times are real model time, never cache hits.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _results import markdown_table, write_section

from longdoc.config import Settings
from longdoc.errors import EmptyResponse
from longdoc.evals.needle import build_haystack, load_essays, load_needle, run_cell
from longdoc.llm import CompletionRequest, load_model


def ints(text: str) -> list[int]:
    return [int(v) for v in text.split(",") if v]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lengths", default="4000,8000,16000,32000")
    parser.add_argument("--depths", default="0,25,50,75,100")
    parser.add_argument("--scorers", default="lexical,hybrid,certainty")
    parser.add_argument("--certainty-lengths", default="", help="lengths for certainty (default: all)")
    parser.add_argument("--chain-lengths", default="4000,8000")
    parser.add_argument("--chain-depths", default="50")
    parser.add_argument("--window", type=int, default=2048)
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--rows", type=Path, default=Path(tempfile.gettempdir()) / "longdoc_needle_rows.jsonl")
    parser.add_argument("--no-write", action="store_true", help="do not update RESULTS.md")
    args = parser.parse_args()

    lengths, depths = ints(args.lengths), ints(args.depths)
    certainty_lengths = set(ints(args.certainty_lengths) or lengths)
    scorers = [s for s in args.scorers.split(",") if s]
    chain_lengths, chain_depths = set(ints(args.chain_lengths)), set(ints(args.chain_depths))
    cache = Path(tempfile.mkdtemp(prefix="needle-cache-"))
    settings = Settings(model="local", window=args.window, concurrency=args.concurrency, cache_dir=cache)
    model = load_model(settings)
    with contextlib.suppress(EmptyResponse):  # start the server before the clock runs
        model.complete(CompletionRequest.from_text("The capital of France is", max_tokens=4))
    needle, essays = load_needle(), load_essays()

    done: dict[tuple, dict] = {}
    if args.rows.exists():
        for line in args.rows.read_text(encoding="utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                done[(row["length"], row["depth"], row["strategy"], row["scorer"], row["window"])] = row
    started = time.perf_counter()
    plan = [("xl3m", s, length, depth) for s in scorers for length in lengths for depth in depths
            if s != "certainty" or length in certainty_lengths]
    plan += [("chain", None, length, depth) for length in lengths for depth in depths
             if length in chain_lengths and depth in chain_depths]
    stacks: dict[tuple[int, int], object] = {}
    for strategy, scorer, length, depth in plan:  # one scorer over the whole grid, then the next
        key = (length, depth, strategy, scorer, args.window)
        if key in done:
            continue
        stack = stacks.get((length, depth))
        if stack is None:
            stack = stacks[(length, depth)] = build_haystack(essays, needle.text, tokens=length, depth=depth)
        cell = run_cell(stack, needle, strategy=strategy, scorer=scorer, model=model, settings=settings, window=args.window)
        row = {"length": length, "window": args.window, **cell.model_dump()}
        row["depth"] = depth
        done[key] = row
        with args.rows.open("a", encoding="utf-8") as out:
            out.write(json.dumps(row) + "\n")
        print(
            f"[{time.perf_counter() - started:7.0f}s] {length:>6} depth {depth:>3} {strategy}:{scorer or '-'}"
            f" selected={cell.selected} answered={cell.answered} calls={cell.calls} {cell.seconds:.1f}s"
            f" answer={cell.answer[:70]!r}",
            flush=True,
        )
    rows = [r for r in done.values() if r["window"] == args.window]
    report(rows, args)


def report(rows: list[dict], args: argparse.Namespace) -> None:
    groups: dict[tuple, list[dict]] = {}
    for row in rows:
        groups.setdefault((row["strategy"], row["scorer"] or "", row["length"]), []).append(row)
    table = []
    for (strategy, scorer, length), cells in sorted(groups.items(), key=lambda kv: (kv[0][0], kv[0][1], kv[0][2])):
        n = len(cells)
        table.append(
            [
                f"{strategy}:{scorer}" if scorer else strategy,
                length,
                ",".join(str(c["depth"]) for c in sorted(cells, key=lambda c: c["depth"])),
                f"{sum(c['selected'] for c in cells)}/{n}",
                f"{sum(c['answered'] for c in cells)}/{n}",
                round(sum(c["calls"] for c in cells) / n, 1),
                round(sum(c["seconds"] for c in cells) / n, 1),
            ]
        )
    totals = {}
    for row in rows:
        name = f"{row['strategy']}:{row['scorer']}" if row["scorer"] else row["strategy"]
        t = totals.setdefault(name, [0, 0, 0])
        t[0] += 1
        t[1] += row["selected"]
        t[2] += row["answered"]
    summary = "\n".join(
        f"- **{name}**: needle kept in {k}/{n} cells ({100 * k / n:.0f}%), answered {a}/{n} ({100 * a / n:.0f}%)"
        for name, (n, k, a) in sorted(totals.items())
    )
    body = (
        "Embedded Gemma 3 270M (base, Q4_K_M, llama.cpp via xllamacpp) on the shared 2-core machine "
        f"(other engineers' jobs ran at the same time, so seconds are noisy); agent window {args.window} tokens; "
        "haystack = Paul Graham essays with the standard San Francisco needle (needle_config.json). "
        "`selected`: the needle is whole in the XL3M key context (for `chain`: its answer words reached "
        "the final notes); `answered`: the answer holds at least half of the needle's words that the "
        "question does not give away. Scores are per cell; seconds and calls are means per cell.\n\n"
        + markdown_table(["strategy", "tokens", "depths %", "selected", "answered", "calls", "seconds"], table)
        + "\n\n"
        + summary
        + "\n\nCommand: `.venv/bin/python benchmarks/bench_needle.py "
        + f"--lengths {args.lengths} --depths {args.depths} --scorers {args.scorers}"
        + (f" --certainty-lengths {args.certainty_lengths}" if args.certainty_lengths else "")
        + f" --chain-lengths {args.chain_lengths} --chain-depths {args.chain_depths} --window {args.window}`"
    )
    print(body)
    if not args.no_write:
        write_section("needle", body)


if __name__ == "__main__":
    main()
