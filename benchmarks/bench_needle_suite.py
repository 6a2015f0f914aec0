"""The needle suite on the embedded model: evidence selection by every scorer over needles
of different kinds (benchmarks/needles/suite), the xl3m answer and the chain's evidence.

    .venv/bin/python benchmarks/bench_needle_suite.py --rows ROWS.jsonl \
        --run 'SCORERS:LENGTHS:DEPTHS[:NEEDLE_IDS]' ... [--answer SCORER:LENGTHS:DEPTHS[:IDS]]
        [--chain LENGTHS:DEPTHS[:IDS]] [--report-only] [--no-write]

Each `--run` is one sweep (`run_suite`) over the needles named (default: all); cells already
in --rows are skipped, so a stopped sweep resumes. The table is written from all rows in the
file (section `needle-suite` of RESULTS.md). The response cache is off: times are model time.
"""

from __future__ import annotations

import argparse
import contextlib
import shlex
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _needle_suite_report import report

from longdoc.config import Settings
from longdoc.errors import EmptyResponse
from longdoc.evals.needle import load_essays
from longdoc.evals.needles.cells import read_rows
from longdoc.evals.needles.suite import load_suite
from longdoc.evals.needles.sweep import run_suite
from longdoc.llm import CompletionRequest, load_model

SUITE = Path(__file__).resolve().parent / "needles" / "suite"


def ints(text: str) -> list[int]:
    return [int(v) for v in text.split(",") if v]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--suite", type=Path, default=SUITE)
    parser.add_argument("--rows", type=Path, required=True)
    parser.add_argument("--run", action="append", default=[], metavar="SCORERS:LENGTHS:DEPTHS[:IDS]")
    parser.add_argument("--answer", action="append", default=[], metavar="SCORER:LENGTHS:DEPTHS[:IDS]")
    parser.add_argument("--chain", action="append", default=[], metavar="LENGTHS:DEPTHS[:IDS]")
    parser.add_argument("--window", type=int, default=2048)
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--report-only", action="store_true")
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument("--note", default="")
    parser.add_argument("--section", default="needle-suite")
    parser.add_argument(
        "--standalone-rows", type=Path,
        help="rows of cells each run by one scorer alone in a process of its own (a fresh server, nothing shared), "
        "reported as the standalone cost per segment",
    )
    args = parser.parse_args()
    argv = sys.argv[1:]
    shown = ["'(the note above)'" if i and argv[i - 1] == "--note" else shlex.quote(a) for i, a in enumerate(argv)]
    args.command_line = [".venv/bin/python benchmarks/bench_needle_suite.py", *shown]

    needles = load_suite(args.suite)
    if not args.report_only:
        essays = load_essays()
        cache = Path(tempfile.mkdtemp(prefix="needle-suite-cache-"))
        settings = Settings(model="local", window=args.window, concurrency=args.concurrency, cache_dir=cache, cache=False)
        model = load_model(settings)
        with contextlib.suppress(EmptyResponse):  # start the server before the clock runs
            model.complete(CompletionRequest.from_text("The capital of France is", max_tokens=4))
        started = time.perf_counter()

        def progress(message: str) -> None:
            print(f"[{time.perf_counter() - started:7.0f}s] {message}", flush=True)

        def chosen(ids: str) -> list:
            wanted = [i for i in ids.split(",") if i]
            return [n for n in needles if not wanted or n.id in wanted]

        jobs = [("run", spec) for spec in args.run] + [("answer", s) for s in args.answer] + [("chain", s) for s in args.chain]
        for kind, spec in jobs:
            parts = spec.split(":")
            if kind == "chain":
                lengths, depths, ids = parts[0], parts[1], parts[2] if len(parts) > 2 else ""
                scorers, answers, chain = [], [], True
            else:
                names, lengths, depths, ids = parts[0], parts[1], parts[2], parts[3] if len(parts) > 3 else ""
                scorers = [s for s in names.split(",") if s] if kind == "run" else []
                answers = [s for s in names.split(",") if s] if kind == "answer" else []
                chain = False
            run_suite(
                chosen(ids), essays, lengths=ints(lengths), depths=ints(depths), scorers=scorers, model=model,
                settings=settings, window=args.window, answer_scorers=answers, chain=chain, rows_path=args.rows,
                progress=progress,
            )
    rows = read_rows(args.rows)
    body = report(rows, needles, args)
    print(body)
    if not args.no_write:
        from _results import write_section

        write_section(args.section, body)


if __name__ == "__main__":
    main()
