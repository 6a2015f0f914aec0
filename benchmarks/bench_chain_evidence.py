"""What the chain's final notes keep, over the whole needle suite and on held-out questions,
with the model's part played by two stand-ins so that every cell can be run.

On the base profile the chain's notes are the pipeline's selection (each worker's verbatim
evidence, ranked across workers under the notes cap) plus whatever short note the model
adds. Running the embedded model takes about a minute per 16k cell, so the embedded-model
cells are a sample (section `needle-suite-chain`); this benchmark runs `longdoc.api.ask`
with `strategy="chain"` on every cell of the suite's grid with the model replaced by:

- `silent`: a model that writes nothing (the notes are the selection alone);
- `quoting`: the fake model's base rule, which quotes the three sentences of its chunk
  sharing most words with the question: notes that compete with the evidence for the cap
  and lift the sentences they share words with, as a base model's notes do.

Each rule the selection relies on is switched off in turn in the same run (ablation):

- `whole notes`: a question's quoted notes may fill a quarter of the window (what the
  manager reads) while each worker reads only the most relevant tenth, instead of one
  tenth for both (pipelines.chain.budget);
- `closest first`: the notes keep the three sentences most similar in meaning to the
  question before ranking the rest by score (agents.notes.CLOSEST_KEPT);
- `initials`: a lone capital after a lower-case word ("in B.") ends a sentence instead of
  being read as a name's initial (text._may_be_initial);
- `closest quoted`: the pipeline's own answer (the fallback when the model writes nothing
  or, on a base model, something its notes do not hold) quotes the top-scored sentence and
  the one closest in meaning, instead of the two best by score (agents.extractive);

and on L-Eval Natural Questions (real queries over Wikipedia pages, never tuned on), the
share of questions whose gold answer reaches the final notes.

    python benchmarks/bench_chain_evidence.py [--lengths 4000,...] [--depths 0,...] [--limit N] [--no-write]
    python benchmarks/bench_chain_evidence.py --beyond [--no-write]

`--beyond` runs, instead, the needles whose sentence is hardest to keep (paraphrase,
distractor, multi) in haystacks longer than the suite's grid (64k and 128k tokens, depths
10, 50 and 90), where far more chunks compete for the notes: section chain-evidence-beyond.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import importlib
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _results import markdown_table, write_section
from bench_selection import found, items

import longdoc.agents.extractive as extractive_module
import longdoc.agents.notes as notes_module
import longdoc.text as text_module
from longdoc.api import ask
from longdoc.config import Settings
from longdoc.documents import Document
from longdoc.evals.needle import load_essays
from longdoc.evals.needles.cells import holds_all
from longdoc.evals.needles.placement import build_suite_haystack
from longdoc.evals.needles.suite import load_suite
from longdoc.llm.fake import FakeModel

prepare_module = importlib.import_module("longdoc.pipelines.chain.prepare")
"""(By path: the package exports a function of the same name.)"""

SUITE = Path(__file__).resolve().parent / "needles" / "suite"
WINDOW = 2048
"""The agent window of the embedded-model cells (section `needle-suite-chain`)."""

VARIANTS = {
    "shipped": (True, True, True, True),
    "without whole notes": (False, True, True, True),
    "without closest first": (True, False, True, True),
    "without the initials rule": (True, True, False, True),
    "without the closest quoted": (True, True, True, False),
    "none of the four (before)": (False, False, False, False),
}
"""Name: (whole notes, closest-first rule, initials rule, closest quoted in the fallback)."""


def stand_in(name: str) -> FakeModel:
    if name == "silent":
        return FakeModel(rule=lambda request: "", context_window=WINDOW)
    return FakeModel(context_window=WINDOW)  # the base rule quotes three overlapping sentences


@contextlib.contextmanager
def variant(whole_notes: bool, closest_first: bool, initials_rule: bool, closest_quoted: bool):
    kept, initial, budget = notes_module.CLOSEST_KEPT, text_module._may_be_initial, prepare_module.plan_budget
    ranking = extractive_module.best_for_question
    if not closest_quoted:  # the fallback quotes by score alone
        extractive_module.best_for_question = lambda evidence: sorted(evidence, key=lambda ev: -ev.score)
    if not whole_notes:  # the notes passed on are the notes each worker reads
        prepare_module.plan_budget = lambda *a, **k: _worker_sized(budget(*a, **k), k.get("summary", False))
    if not closest_first:
        notes_module.CLOSEST_KEPT = 0
    if not initials_rule:
        text_module._may_be_initial = lambda text, start: True
    try:
        yield
    finally:
        notes_module.CLOSEST_KEPT, text_module._may_be_initial, prepare_module.plan_budget = kept, initial, budget
        extractive_module.best_for_question = ranking


def _worker_sized(budget, summary: bool):
    return budget if summary else dataclasses.replace(budget, notes_cap=budget.worker_notes)


def run_chain(text: str, path: str, question: str, model: FakeModel, settings: Settings) -> tuple[str, str]:
    """The final notes and the answer."""
    result = ask(Document.from_text(text, path=path), question, strategy="chain", settings=settings, model=model)
    return (result.notes[-1] if result.notes else ""), result.answer


def suite_grid(lengths, depths, models, settings) -> dict:
    """(variant, stand-in) -> list of (kind, tokens, depth, needle id, answered, kept) over every cell."""
    needles = load_suite(SUITE)
    essays = load_essays()
    stacks = [
        (n, d, build_suite_haystack(essays, n, tokens=t, depth=d)) for n in needles for t in lengths for d in depths
    ]
    cells: dict = defaultdict(list)
    for name, switches in VARIANTS.items():
        with variant(*switches):
            for model_name in models:
                for needle, depth, stack in stacks:
                    notes, answer = run_chain(
                        stack.text, f"haystack-{needle.id}.txt", needle.question, stand_in(model_name), settings
                    )
                    cells[name, model_name].append(
                        (needle.kind, stack.tokens, depth, needle.id, needle.answered_by(answer),
                         holds_all(notes, needle.needles))
                    )
    return cells


def held_out(limit, settings) -> dict:
    """variant -> list of (gold answer in the final notes, in the answer) on Natural Questions,
    silent model (the answer is the pipeline's fallback: the best evidence quoted)."""
    questions = items(limit)
    kept: dict = defaultdict(list)
    for name, switches in VARIANTS.items():
        with variant(*switches):
            for q in questions:
                notes, answer = run_chain(q.context, f"{q.document_id}.txt", q.question, stand_in("silent"), settings)
                kept[name].append((found(q.answers, notes), found(q.answers, answer)))
    return kept


BEYOND_KINDS = ("paraphrase", "distractor", "multi")
BEYOND_VARIANTS = ("shipped", "without whole notes", "without closest first")


def beyond(settings) -> str:
    """Longer haystacks than the grid's: which of the two notes rules each cell needs."""
    needles = [n for n in load_suite(SUITE) if n.kind in BEYOND_KINDS]
    essays = load_essays()
    rows = []
    started = time.perf_counter()
    for tokens in (64000, 128000):
        stacks = [(n, build_suite_haystack(essays, n, tokens=tokens, depth=d)) for n in needles for d in (10, 50, 90)]
        for name in (*BEYOND_VARIANTS, "none of the four (before)"):
            whole, closest, *_ = VARIANTS[name]
            with variant(whole, closest, True, True):
                for model_name in ("silent", "quoting"):
                    kept = [
                        holds_all(run_chain(stack.text, "haystack.txt", n.question, stand_in(model_name), settings)[0], n.needles)
                        for n, stack in stacks
                    ]
                    label = name if name != "none of the four (before)" else "neither notes rule (before)"
                    rows.append([f"{tokens // 1000}k", label, model_name, share(kept)])
    return "\n\n".join([
        "`python benchmarks/bench_chain_evidence.py --beyond`: the chain (base profile, 2048-token window) on "
        f"the {len(needles)} needles of kinds {', '.join(BEYOND_KINDS)} at 64k and 128k tokens of the shared "
        "essays, depths 10, 50 and 90, with the two stand-ins; the two notes rules (whole notes, closest "
        "first) switched off in turn (the initials rule and the fallback stay on). A cell counts when every "
        f"needle sentence is in the final notes. {time.perf_counter() - started:.0f} s.",
        markdown_table(["haystack", "selection", "model stand-in", "needle kept"], rows),
    ])


def share(hits: list[bool]) -> str:
    return f"{sum(hits)}/{len(hits)} ({100 * sum(hits) / len(hits):.1f}%)" if hits else "-"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lengths", default="4000,8000,16000,32000")
    parser.add_argument("--depths", default="0,25,50,75,100")
    parser.add_argument("--models", default="silent,quoting")
    parser.add_argument("--limit", type=int, default=None, help="Natural Questions to run (default: all)")
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument("--beyond", action="store_true", help="only the 64k and 128k haystacks (own section)")
    args = parser.parse_args()
    lengths = [int(v) for v in args.lengths.split(",")]
    depths = [int(v) for v in args.depths.split(",")]
    models = args.models.split(",")
    settings = Settings(model="fake", window=WINDOW, cache=False, cache_dir=Path(tempfile.mkdtemp()))
    if args.beyond:
        body = beyond(settings)
        print(body)
        if not args.no_write:
            write_section("chain-evidence-beyond", body)
        return

    started = time.perf_counter()
    cells = suite_grid(lengths, depths, models, settings)
    grid_seconds = time.perf_counter() - started
    started = time.perf_counter()
    nq = held_out(args.limit, settings)
    nq_seconds = time.perf_counter() - started

    kinds = sorted({kind for rows in cells.values() for kind, *_ in rows})
    rows = []
    for (name, model_name), hits in cells.items():
        by_kind = [share([ok for kind, *_, ok in hits if kind == k]) for k in kinds]
        answered = share([a for *_, a, _ in hits]) if model_name == "silent" else "-"
        rows.append([name, model_name, share([ok for *_, ok in hits]), *by_kind, answered])
    lost = sorted(
        f"{needle} {tokens // 1000}k depth {depth} ({m})"
        for m in models for _, tokens, depth, needle, _, ok in cells["shipped", m] if not ok
    )
    nq_rows = [[name, share([n for n, _ in hits]), share([a for _, a in hits])] for name, hits in nq.items()]
    body = "\n\n".join([
        f"`python benchmarks/bench_chain_evidence.py --lengths {args.lengths} --depths {args.depths}`: "
        f"the chain (`ask`, strategy chain, base profile, {WINDOW}-token window) on every cell of the needle "
        f"suite ({len(lengths)} lengths x {len(depths)} depths), with the model replaced by a stand-in "
        "(`silent`: writes nothing; `quoting`: quotes the three sentences of its chunk sharing most words "
        "with the question). A cell counts when every needle sentence is in the final notes. "
        "`answered (fallback)`: with the silent stand-in the answer is the pipeline's own (the best "
        "evidence quoted: the top-scored sentence and the one closest in meaning), and it counts when it "
        "holds the gold answer. "
        "Each rule is switched off in turn in the same run. "
        f"{grid_seconds:.0f} s for the grid.",
        markdown_table(["selection", "model stand-in", "needle kept", *kinds, "answered (fallback)"], rows),
        f"Cells the shipped selection loses: {', '.join(lost) if lost else 'none'}.",
        f"Held out: L-Eval Natural Questions ({len(next(iter(nq.values())))} questions whose gold answer is "
        "in the page), silent stand-in: the gold answer in the chain's final notes. "
        f"{nq_seconds:.0f} s.",
        markdown_table(["selection", "gold answer in the final notes", "in the fallback answer"], nq_rows),
    ])
    print(body)
    if not args.no_write:
        write_section("chain-evidence-grid", body)


if __name__ == "__main__":
    main()
