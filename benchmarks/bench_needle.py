"""Needle in a haystack on the embedded model: does XL3M selection keep the needle (certainty,
lexical and hybrid scorers), does the answer contain it, and how long does it take against
reading everything with Chain-of-Agents?

    .venv/bin/python benchmarks/bench_needle.py [--lengths 4000,8000,16000,32000]
        [--depths 0,25,50,75,100] [--scorers certainty,lexical,hybrid]
        [--chain 4000,8000:0,50,100 ...] [--window 2048] [--rows /tmp/needle_rows.jsonl]

Each finished cell is appended to --rows, and a rerun skips cells already there (so a long
sweep can be stopped and resumed); the table is written from all rows in the file. The
response cache is off (and its folder fresh), so times are real model time, never cache hits.
End-to-end xl3m cells count towards a scorer's selection recall as well (the selection is
the same; the answer call comes after it).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shlex
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _results import markdown_table, write_section

from longdoc.config import Settings
from longdoc.documents import Document
from longdoc.errors import EmptyResponse
from longdoc.evals.needle import (
    build_haystack,
    is_segment_fallback,
    load_essays,
    load_needle,
    run_cell,
)
from longdoc.llm import CompletionRequest, load_model
from longdoc.pipelines.xl3m import key_context_budget
from longdoc.retrieval.certainty import DEFAULT_SCORE_TOKENS
from longdoc.retrieval.key_context import select_key_context
from longdoc.retrieval.scorers import make_scorer
from longdoc.splitters.segments import split_segments


def ints(text: str) -> list[int]:
    return [int(v) for v in text.split(",") if v]


def select_cell(stack, needle, scorer_name: str, model, settings: Settings, window: int) -> dict:
    """Selection only (no answer call): is the needle whole in the key context, and where
    does the segment holding it rank among all segments?"""
    name, _, tokens = scorer_name.partition("@")  # certainty@8: 8 generated tokens, not the default
    scorer = make_scorer(name, model, concurrency=settings.concurrency, tokens=int(tokens or DEFAULT_SCORE_TOKENS))
    document = Document.from_text(stack.text, path=f"haystack-{stack.tokens}.txt")
    started = time.perf_counter()
    selection = select_key_context(
        [document], needle.question, scorer, budget=key_context_budget(window, needle.question)
    )
    seconds = time.perf_counter() - started
    sign = 1 if selection.lower_is_better else -1
    order = sorted(range(len(selection.segments)), key=lambda i: (sign * selection.scores[i], i))
    holding = [i for i, seg in enumerate(selection.segments)
               if seg.start <= stack.needle_start + 1 and seg.end >= stack.needle_end - 1]
    return {
        "strategy": "select",
        "scorer": scorer_name,
        "tokens": stack.tokens,
        "selected": needle.text.strip() in selection.context,
        "answered": None,
        "rank": min(order.index(i) for i in holding) + 1 if holding else None,
        "segments": len(selection.segments),
        "calls": selection.usage.calls,
        "seconds": round(seconds, 3),
    }


def add_fallback(rows: list[dict], essays: str, needle, window: int) -> None:
    """For xl3m rows written before cells recorded it: was the answer the manager's fallback
    (the text of selected segments, because the model's reply was empty or ungrounded)?
    Rebuilds the cell's haystack and segments; no model call."""
    for row in rows:
        if row["strategy"] != "xl3m" or row.get("fallback") is not None:
            continue
        stack = build_haystack(essays, needle.text, tokens=row["length"], depth=row["depth"])
        size = min(384, key_context_budget(window, needle.question))
        segments = split_segments(Document.from_text(stack.text), tokens=size)
        row["fallback"] = is_segment_fallback(row["answer"], (s.text for s in segments))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lengths", default="4000,8000,16000,32000")
    parser.add_argument("--depths", default="0,25,50,75,100")
    parser.add_argument("--scorers", default="lexical,hybrid,certainty")
    parser.add_argument("--certainty-lengths", default="", help="lengths for certainty (default: all)")
    parser.add_argument("--chain-lengths", default="4000,8000")
    parser.add_argument("--chain-depths", default="50")
    parser.add_argument(
        "--chain", action="append", default=[], metavar="LENGTHS:DEPTHS",
        help="chain cells besides --chain-lengths x --chain-depths, e.g. 32000:50; repeatable",
    )
    parser.add_argument("--window", type=int, default=2048)
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--rows", type=Path, default=Path(tempfile.gettempdir()) / "longdoc_needle_rows.jsonl")
    parser.add_argument("--no-write", action="store_true", help="do not update RESULTS.md")
    parser.add_argument("--report-only", action="store_true", help="write the table from --rows; run no cell, load no model")
    parser.add_argument("--note", default="", help="a sentence added to the table's description (e.g. the machine's load)")
    parser.add_argument(
        "--select", action="append", default=[], metavar="SCORER:LENGTHS:DEPTHS",
        help="selection-only cells (no answer call), e.g. lexical:4000,8000:0,50,100; a scorer named "
        "certainty@8 (or hybrid@8) generates 8 tokens instead of the default; repeatable",
    )
    parser.add_argument("--needle-config", type=Path, help="another needle_config.json (default: the shared one)")
    parser.add_argument("--section", default="needle", help="RESULTS.md section to write (default: needle)")
    parser.add_argument(
        "--cold-rows", type=Path,
        help="rows of cells each run in a process of its own (a fresh server: no prompt reuse), reported as cold times",
    )
    args = parser.parse_args()

    lengths, depths = ints(args.lengths), ints(args.depths)
    certainty_lengths = set(ints(args.certainty_lengths) or lengths)
    scorers = [s for s in args.scorers.split(",") if s]
    chain_lengths, chain_depths = set(ints(args.chain_lengths)), set(ints(args.chain_depths))
    needle, essays = load_needle(args.needle_config), load_essays()
    done: dict[tuple, dict] = {}
    if args.rows.exists():
        for line in args.rows.read_text(encoding="utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                done[(row["length"], row["depth"], row["strategy"], row["scorer"], row["window"])] = row
    if args.report_only:
        rows = [r for r in done.values() if r["window"] == args.window]
        add_fallback(rows, essays, needle, args.window)
        report(rows, args, needle)
        return
    cache = Path(tempfile.mkdtemp(prefix="needle-cache-"))
    settings = Settings(model="local", window=args.window, concurrency=args.concurrency, cache_dir=cache, cache=False)
    model = load_model(settings)
    with contextlib.suppress(EmptyResponse):  # start the server before the clock runs
        model.complete(CompletionRequest.from_text("The capital of France is", max_tokens=4))
    started = time.perf_counter()
    for spec in args.select:
        scorer_name, spec_lengths, spec_depths = spec.split(":")
        for length in ints(spec_lengths):
            for depth in ints(spec_depths):
                key = (length, depth, "select", scorer_name, args.window)
                if key in done:
                    continue
                stack = build_haystack(essays, needle.text, tokens=length, depth=depth)
                row = select_cell(stack, needle, scorer_name, model, settings, args.window)
                row.update(length=length, depth=depth, window=args.window, load=round(os.getloadavg()[0], 2))
                done[key] = row
                with args.rows.open("a", encoding="utf-8") as out:
                    out.write(json.dumps(row) + "\n")
                print(
                    f"[{time.perf_counter() - started:7.0f}s] {length:>6} depth {depth:>3} select:{scorer_name}"
                    f" selected={row['selected']} rank={row['rank']}/{row['segments']} calls={row['calls']} {row['seconds']:.1f}s",
                    flush=True,
                )
    plan = [("xl3m", s, length, depth) for s in scorers for length in lengths for depth in depths
            if s != "certainty" or length in certainty_lengths]
    plan += [("chain", None, length, depth) for length in lengths for depth in depths
             if length in chain_lengths and depth in chain_depths]
    for spec in args.chain:
        spec_lengths, spec_depths = spec.split(":")
        plan += [("chain", None, length, depth) for length in ints(spec_lengths) for depth in ints(spec_depths)
                 if ("chain", None, length, depth) not in plan]
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
        row["load"] = round(os.getloadavg()[0], 2)
        done[key] = row
        with args.rows.open("a", encoding="utf-8") as out:
            out.write(json.dumps(row) + "\n")
        print(
            f"[{time.perf_counter() - started:7.0f}s] {length:>6} depth {depth:>3} {strategy}:{scorer or '-'}"
            f" selected={cell.selected} rank={cell.rank}/{cell.segments} answered={cell.answered}"
            f" calls={cell.calls} {cell.seconds:.1f}s"
            f" answer={cell.answer[:70]!r}",
            flush=True,
        )
    rows = [r for r in done.values() if r["window"] == args.window]
    add_fallback(rows, essays, needle, args.window)
    report(rows, args, needle)


def _grouped(rows: list[dict], key) -> list[tuple[tuple, list[dict]]]:
    groups: dict[tuple, list[dict]] = {}
    for row in rows:
        groups.setdefault(key(row), []).append(row)
    return sorted(groups.items(), key=lambda kv: kv[0])


def _depths(cells: list[dict]) -> str:
    return ",".join(f"{c['depth']:g}" for c in sorted(cells, key=lambda c: c["depth"]))


def _mean(values: list[float], digits: int = 1) -> float | str:
    return round(sum(values) / len(values), digits) if values else "-"


def cold_table(path: Path | None) -> str:
    """Cells run one per process: llama.cpp's server keeps the prompts it has read, and the
    haystacks of one sweep share most of their text, so within a sweep later cells reread
    little; a fresh process times a cell as a single real question would run."""
    if path is None or not path.exists():
        return ""
    cells = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    rows = [
        [f"{c['strategy']}:{c['scorer']}" if c["scorer"] else c["strategy"], c["length"], f"{c['depth']:g}",
         "yes" if c["answered"] else "no", c["calls"], round(c["seconds"], 1), round(c["seconds"] / max(1, c["calls"]), 2)]
        for c in sorted(cells, key=lambda c: (c["length"], c["strategy"], c["scorer"] or ""))
    ]
    return (
        "**Cold wall time** (each cell in a process of its own, so a fresh llama.cpp server: within one "
        "sweep the server reuses the prompts it has already read, and haystacks cut from the same essays "
        "share most segments, which makes the certainty seconds above after each length's first cell "
        "lower than a single question would see):\n\n"
        + markdown_table(["strategy", "tokens", "depth %", "answered", "calls", "seconds", "s/call"], rows) + "\n\n"
    )


def report(rows: list[dict], args: argparse.Namespace, needle) -> None:
    # selection: selection-only cells, and end-to-end xl3m cells (same selection, then an answer)
    select_rows = [r for r in rows if r["strategy"] in ("select", "xl3m")]
    answer_rows = [r for r in rows if r["strategy"] != "select"]
    selection = []
    for (scorer, length), cells in _grouped(select_rows, lambda r: (r["scorer"], r["length"])):
        ranks = [c["rank"] for c in cells if c.get("rank") is not None]
        segments = next((c["segments"] for c in cells if c.get("segments")), "-")
        selection.append([
            scorer, length, _depths(cells), f"{sum(c['selected'] for c in cells)}/{len(cells)}",
            ", ".join(str(c.get("rank")) for c in sorted(cells, key=lambda c: c["depth"])),
            f"{_mean(ranks)} of {segments}" if ranks else "-",
        ])
    totals: dict[str, list[int]] = {}
    for row in select_rows:
        t = totals.setdefault(row["scorer"], [0, 0])
        t[0] += 1
        t[1] += row["selected"]
    summary = "\n".join(
        f"- selection recall, **{name}**: {k}/{n} cells ({100 * k / n:.0f}%)" for name, (n, k) in sorted(totals.items())
    )
    label = lambda r: f"{r['strategy']}:{r['scorer']}" if r["scorer"] else r["strategy"]  # noqa: E731
    answers = []
    for (name, length), cells in _grouped(answer_rows, lambda r: (label(r), r["length"])):
        n = len(cells)
        calls = sum(c["calls"] for c in cells)
        answers.append([
            name, length, _depths(cells), f"{sum(c['selected'] for c in cells)}/{n}",
            f"{sum(c['answered'] for c in cells)}/{n}",
            f"{sum(c['answered'] and not c.get('fallback') for c in cells)}/{n}"
            if any(c.get("fallback") is not None for c in cells) else "-",
            _mean([c["calls"] for c in cells]),
            round(sum(c["prompt_tokens"] for c in cells) / n), _mean([c["seconds"] for c in cells]),
            round(sum(c["seconds"] for c in cells) / calls, 2) if calls else "-",
        ])
    accuracy: dict[str, list[int]] = {}
    for row in answer_rows:
        t = accuracy.setdefault(label(row), [0, 0, 0, 0])
        t[0] += 1
        t[1] += row["answered"]
        t[2] += row["answered"] and not row.get("fallback")
        t[3] += row.get("fallback") is not None
    accuracy_lines = "\n".join(
        f"- answer accuracy, **{name}**: {k}/{n} cells ({100 * k / n:.0f}%)"
        + (f"; in the model's own words (not the manager's fallback to the selected segments' text): "
           f"{own}/{n} ({100 * own / n:.0f}%)" if known else "")
        for name, (n, k, own, known) in sorted(accuracy.items())
    )
    # wall time on the very cells chain ran: same haystacks, same machine, same sweep
    chain_cells = {(r["length"], r["depth"]) for r in answer_rows if r["strategy"] == "chain"}
    names = sorted({label(r) for r in answer_rows}, key=lambda n: (n != "chain", n))
    walls = []
    for length in sorted({length for length, _ in chain_cells}):
        depths = sorted(d for ln, d in chain_cells if ln == length)
        row: list[object] = [length, ",".join(f"{d:g}" for d in depths)]
        for name in names:
            mine = [r for r in answer_rows if label(r) == name and r["length"] == length and (length, r["depth"]) in chain_cells]
            row.append(_mean([r["seconds"] for r in mine]) if len(mine) == len(depths) else "-")
        walls.append(row)
    wall_table = (
        "**Wall time vs reading everything** (mean seconds per cell over the depths chain ran, on the same "
        "haystacks in the same sweep; within a sweep the llama.cpp server reuses prompts it has already read, "
        "so these favour strategies whose prompts recur across cells, certainty most):\n\n" + markdown_table(["tokens", "depths %", *names], walls) + "\n\n"
        if walls else ""
    )
    command = "`.venv/bin/python benchmarks/bench_needle.py " + " ".join(
        ([f"--needle-config {args.needle_config}"] if args.needle_config else [])
        + ([f"--section {args.section}"] if args.section != "needle" else [])
        + [f"--select {spec}" for spec in args.select]
        + [f"--lengths {args.lengths} --depths {args.depths} --scorers {shlex.quote(args.scorers)}"]
        + ([f"--certainty-lengths {args.certainty_lengths}"] if args.certainty_lengths else [])
        + [f"--chain-lengths {shlex.quote(args.chain_lengths)} --chain-depths {args.chain_depths}"]
        + [f"--chain {spec}" for spec in args.chain]
        + [f"--window {args.window}`"]
        + ([f"; cold cells: one such command per cell with `--rows {args.cold_rows.name}`"] if args.cold_rows else [])
    )
    end_to_end = (
        "**End to end** (select, then the manager answers; `chain` reads everything): `selected` = the needle "
        "is in the key context (chain: its answer words reached the final notes); `answered` = the answer "
        "holds at least half of the needle's words that the question does not give away; `own words` = "
        "answered, and not by the manager's fallback (when the model's reply is empty or ungrounded, the "
        "manager answers with the text of the best selected segments, which holds the needle whenever it "
        "was selected); calls, prompt tokens and seconds are means per cell; `s/call` = seconds per model call.\n\n"
        + markdown_table(
            ["strategy", "tokens", "depths %", "selected", "answered", "own words", "calls", "prompt tokens", "seconds",
             "s/call"],
            answers,
        )
        + "\n\n" + accuracy_lines + "\n\n"
        if answers else ""
    )
    loads = [r["load"] for r in rows if r.get("load") is not None]
    load_text = f" (1-minute load average {min(loads):.1f}-{max(loads):.1f} at the cells' ends)" if loads else ""
    body = (
        "Embedded Gemma 3 270M (base, Q4_K_M, llama.cpp via xllamacpp) on the shared 2-core machine, under the "
        f"model lock{load_text}; other engineers' CPU work could still run beside it. "
        + (args.note.strip() + " " if args.note.strip() else "")
        + f"The cells took {sum(r['seconds'] for r in rows) / 60:.0f} min of model time in all. Agent window {args.window} tokens (key context "
        "of about 1,500 tokens = 4 segments of 384); haystack = Paul Graham essays with the needle "
        f"\"{needle.text.strip()}\" (question: \"{needle.question}\", from "
        f"{args.needle_config.name if args.needle_config else 'the shared needle_config.json'}). Certainty: mean top-10 entropy over "
        f"{DEFAULT_SCORE_TOKENS} generated tokens (`certainty@N`: over N).\n\n"
        "**Selection**: `selected` = the needle sentence is whole in the key context; `ranks` = rank of the "
        "segment holding the needle among all segments per depth (1 = most relevant).\n\n"
        + markdown_table(["scorer", "tokens", "depths %", "selected", "ranks", "mean rank"], selection)
        + "\n\n" + summary + "\n\n"
        + end_to_end
        + wall_table + cold_table(args.cold_rows)
        + "Command: " + command
    )
    print(body)
    if not args.no_write:
        write_section(args.section, body)


if __name__ == "__main__":
    main()
