"""Evidence selection on questions nobody wrote for longdoc: the L-Eval Natural Questions
set (real search queries over Wikipedia pages, with gold short answers). For each question
and each model-free scorer, the xl3m key context is selected at two agent windows, and the
chain's worker evidence is selected chunk by chunk; a cell counts when a gold answer occurs
in what was kept. No language model runs, so every question is measured.

    python benchmarks/bench_selection.py [--scorers lexical,dense,fusion=lexical+dense]
        [--windows 2048,8192] [--limit N] [--no-write]

The gold answer is matched case-insensitively with whitespace collapsed. Short numeric
answers ("10", "13") also occur by chance, so the table also reports answers of at least
two words or six characters (`long answers`), where a chance match is rare.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _results import markdown_table, write_section

from longdoc.agents.evidence import select_evidence
from longdoc.documents import Document
from longdoc.embedding import SentenceEncoder
from longdoc.evals.qa_data import parse_record
from longdoc.pipelines.xl3m import key_context_budget
from longdoc.retrieval import aselect_key_context, make_scorer
from longdoc.retrieval.dense import DenseScorer
from longdoc.retrieval.lexical import LexicalScorer
from longdoc.splitters.segments import split_segments

EVIDENCE_VARIANTS = (("words only (before)", False), ("words and similarity", True))

EVIDENCE_CHUNK = 1500
"""Tokens per chunk for the chain's evidence measure (the chunk a worker reads at a 2k window)."""

NQ = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "leval" / "natural_question.jsonl"


def normal(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().lower()


def found(answers, kept: str) -> bool:
    text = normal(kept)
    return any(normal(a) and normal(a) in text for a in answers)


def is_long(answers) -> bool:
    return all(len(a.split()) >= 2 or len(a) >= 6 for a in answers)


def items(limit: int | None):
    out = []
    for n, line in enumerate(NQ.read_text(encoding="utf-8").splitlines()):
        out.extend(parse_record(json.loads(line), path=NQ, line=n + 1))
    # a question whose gold answer is not in its document cannot be found by any selection
    out = [q for q in out if found(q.answers, q.context)]
    return out[:limit] if limit else out


async def measure(questions, scorers: list[str], windows: list[int]) -> tuple[dict, dict]:
    hits: dict[tuple[str, int], list[tuple[bool, bool]]] = {}
    seconds: dict[str, float] = {}
    for name in scorers:
        scorer = make_scorer(name)
        for window in windows:
            t = time.perf_counter()
            for q in questions:
                doc = Document(id=q.document_id, text=q.context)
                budget = key_context_budget(window, q.question)
                selection = await aselect_key_context([doc], q.question, scorer, budget=budget)
                hits.setdefault((name, window), []).append((found(q.answers, selection.context), is_long(q.answers)))
            seconds[f"{name}@{window}"] = time.perf_counter() - t
    evidence: dict[str, list[tuple[bool, bool]]] = {}
    for label, similarity in EVIDENCE_VARIANTS:
        with similarity_off(not similarity):
            for q in questions:
                doc = Document(id=q.document_id, text=q.context)
                kept = [
                    ev.text
                    for c in split_segments(doc, tokens=EVIDENCE_CHUNK)
                    for ev in select_evidence(c, mode="question", query=q.question)
                ]
                evidence.setdefault(label, []).append((found(q.answers, "\n".join(kept)), is_long(q.answers)))
    return hits, {"seconds": seconds, "evidence": evidence}


@contextlib.contextmanager
def similarity_off(off: bool):
    """select_evidence as it was before the encoder: shared words only."""
    original = SentenceEncoder.similarities
    if off:
        SentenceEncoder.similarities = lambda self, query, texts: [0.0] * len(texts)
    try:
        yield
    finally:
        SentenceEncoder.similarities = original


def encoder_throughput(questions) -> list[list[object]]:
    """Cold cost of scoring the longest page once: BM25 beside the dense scorer (a fresh
    encoder, nothing cached) in the same run."""
    q = max(questions, key=lambda item: len(item.context))
    segments = split_segments(Document(id=q.document_id, text=q.context))
    tokens = sum(s.tokens for s in segments)
    t = time.perf_counter()
    LexicalScorer().score_sync(segments, q.question)
    bm25 = time.perf_counter() - t
    t = time.perf_counter()
    DenseScorer(SentenceEncoder()).score_sync(segments, q.question)
    dense = time.perf_counter() - t
    return [
        ["lexical (BM25)", tokens, round(bm25, 3), round(tokens / bm25), "1"],
        ["dense (cold)", tokens, round(dense, 2), round(tokens / dense), f"{dense / bm25:.0f}x"],
    ]


def share(cells: list[tuple[bool, bool]], *, long_only: bool = False) -> str:
    picked = [hit for hit, long in cells if long or not long_only]
    kept = sum(picked)
    return f"{kept}/{len(picked)} ({100 * kept / max(1, len(picked)):.0f}%)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scorers", default="lexical,dense,fusion=lexical+dense")
    parser.add_argument("--windows", default="2048,8192")
    parser.add_argument("--limit", type=int)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    scorers = [s for s in args.scorers.split(",") if s]
    windows = [int(w) for w in args.windows.split(",") if w]
    questions = items(args.limit)
    hits, extra = asyncio.run(measure(questions, scorers, windows))
    rows = []
    for (name, window), cells in hits.items():
        rows.append([name, window, share(cells), share(cells, long_only=True), round(extra["seconds"][f"{name}@{window}"] / len(questions), 2)])
    body = (
        f"L-Eval Natural Questions: {len(questions)} questions over {len({q.document_id for q in questions})} "
        "Wikipedia pages (6k-35k tokens) whose gold answer occurs in the page. A cell counts when a gold answer "
        "occurs in the xl3m key context (segments of 384 tokens, the budget `key_context_budget` gives the window). "
        "`long answers`: answers of two words or six characters and more, where a chance match is rare. "
        "Seconds are the scorer's own per question (the dense encoder's cache starts cold, and the "
        "same page serves several questions).\n\n"
        + markdown_table(["scorer", "window", "answer in key context", "long answers", "s/question"], rows)
        + "\n\n"
    )
    body += (
        f"Chain worker evidence (`select_evidence`, question mode, no note; chunks of {EVIDENCE_CHUNK:,} tokens, "
        "3 sentences each): a cell counts when a kept sentence holds a gold answer.\n\n"
        + markdown_table(
            ["evidence", "answer kept", "long answers"],
            [[label, share(cells), share(cells, long_only=True)] for label, cells in extra["evidence"].items()],
        )
        + "\n\nCost of one cold pass over the longest page, measured side by side:\n\n"
        + markdown_table(["scorer", "tokens", "seconds", "tokens/s", "ratio"], encoder_throughput(questions))
        + "\n"
    )
    body += f"\nCommand: `python benchmarks/bench_selection.py --scorers {args.scorers} --windows {args.windows}`\n"
    print(body)
    if not args.no_write:
        write_section("selection-nq", body)


if __name__ == "__main__":
    main()
