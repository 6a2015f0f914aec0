"""Long-document QA on the embedded model: chain, hierarchical, xl3m and truncate answer the
same L-Eval questions with the same model and window (the `longdoc eval qa` harness).

    .venv/bin/python benchmarks/bench_qa.py [--pick quality:1:2 --pick natural_question:17:2]
        [--strategies chain,hierarchical,xl3m,truncate] [--scorer certainty] [--window 2048]

`--pick FILE:LINE:N` takes the first N questions of the document on line LINE (0-based) of
../shared/data/leval/FILE.jsonl, so a run can choose short documents. Rows are kept in
--rows (JSONL); a rerun resumes from them. The response cache is off, so seconds are model time.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _results import markdown_table, write_section

from longdoc.config import Settings
from longdoc.evals.qa import run_qa, summarize_rows
from longdoc.evals.qa_data import parse_record
from longdoc.llm import load_model

LEVAL = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "leval"


def picked_items(picks: list[str]):
    items = []
    for pick in picks:
        name, line, count = pick.split(":")
        path = LEVAL / f"{name}.jsonl"
        record = json.loads(path.read_text(encoding="utf-8").splitlines()[int(line)])
        questions = parse_record(record, path=path, line=int(line) + 1)[: int(count)]
        items.extend(q.model_copy(update={"id": f"{name}:{q.id}"}) for q in questions)
    return items


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pick", action="append", default=[], metavar="FILE:LINE:N")
    parser.add_argument("--strategies", default="chain,hierarchical,xl3m,truncate")
    parser.add_argument("--scorer", default="certainty")
    parser.add_argument("--window", type=int, default=2048)
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--rows", type=Path, default=Path(tempfile.gettempdir()) / "longdoc_qa_rows.jsonl")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    picks = args.pick or ["quality:1:2", "natural_question:17:2"]
    strategies = [s for s in args.strategies.split(",") if s]
    items = picked_items(picks)
    settings = Settings(
        model="local", window=args.window, concurrency=args.concurrency, cache=False,
        cache_dir=Path(tempfile.mkdtemp(prefix="qa-cache-")),
    )
    model = load_model(settings)

    def progress(done, total, row, resumed):
        state = "resumed" if resumed else f"{row.status} {row.seconds:.0f}s"
        print(f"{done}/{total} {row.id} {row.strategy}: {state} answer={row.answer[:80]!r} gold={row.gold[0][:60]!r}", flush=True)

    rows = run_qa(items, strategies, model, settings=settings, window=args.window, scorer=args.scorer,
                  out=args.rows, progress=progress)
    sections = []
    for dataset in dict.fromkeys(i.id.split(":")[0] for i in items):
        mine = [r for r in rows if r.id.startswith(dataset + ":")]
        summary = summarize_rows(mine, strategies)

        def pct(value):
            return "-" if value is None else f"{100 * value:.0f}"

        table = [
            [name, f"{s.answered}/{s.questions}", pct(s.exact_match), pct(s.f1), pct(s.accuracy),
             pct(s.evidence_recall), s.calls, s.prompt_tokens, round(s.seconds)]
            for name, s in summary.items()
        ]
        doc_tokens = sorted({r.document_tokens for r in mine})
        sections.append(
            f"**{dataset}** ({len({r.id for r in mine})} questions, document tokens {doc_tokens}):\n\n"
            + markdown_table(
                ["strategy", "answered", "EM %", "F1 %", "accuracy %", "evidence %", "calls", "prompt tokens", "seconds"],
                table,
            )
        )
    per_question = markdown_table(
        ["question", "strategy", "answer", "gold", "EM", "F1", "acc", "evidence"],
        [
            [r.id, r.strategy, r.answer[:60].replace("|", "/").replace("\n", " "), r.gold[0][:40].replace("|", "/"),
             *("-" if v is None else round(v, 2) for v in (r.exact_match, r.f1, r.accuracy, r.evidence_recall))]
            for r in rows
        ],
    )
    body = (
        "Embedded Gemma 3 270M (base) on the shared 2-core machine (other engineers' jobs running at the "
        f"same time: seconds are noisy and inflated); every strategy with the same model and a {args.window}-token "
        f"window; xl3m scorer `{args.scorer}`. A handful of questions only (the machine could not run more "
        "in the time available): these numbers show the harness working, not the strategies' quality. "
        "`evidence` = share of gold answers found in the document that reached the final notes / key "
        "context / truncated text; `-` = the metric does not apply (EM/F1 for multiple choice, accuracy "
        "for short answers, evidence when the gold string is not in the document).\n\n"
        + "\n\n".join(sections)
        + "\n\nPer question:\n\n" + per_question
        + "\n\nCommand: `.venv/bin/python benchmarks/bench_qa.py "
        + " ".join(f"--pick {p}" for p in picks)
        + f" --strategies {args.strategies} --scorer {args.scorer} --window {args.window}`"
    )
    print(body)
    if not args.no_write:
        write_section("qa", body)


if __name__ == "__main__":
    main()
