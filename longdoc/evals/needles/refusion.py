"""Fusions recomputed from recorded rows: a fusion's selection depends only on its members'
segment scores, so once the single scorers' scores are in the rows, any fusion of them (any
members, any k) is measured on the same cells without another model call."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from ...documents import Chunk
from ...retrieval.fusion import ranks_of, reciprocal_rank_fusion
from ...retrieval.key_context import select_segments
from .cells import SuiteRow, select_cell
from .placement import build_suite_haystack
from .suite import SuiteNeedle

LOWER_IS_BETTER = {"certainty": True, "answer": True, "calibrated": True, "hybrid": True,
                   "lexical": False, "expanded": False}


def fused_row(members: Sequence[SuiteRow], *, k: int, budget: int, name: str) -> SuiteRow:
    """The row the fusion of `members` (rows of one cell, with scores) would have given: its
    needle is selected when a segment holding each needle sentence fits the budget."""
    first = members[0]
    if any(m.scores is None or m.holding is None or m.segment_tokens is None for m in members):
        raise ValueError(f"rows of {first.needle} at {first.tokens}/{first.depth:g} lack segment scores")
    rankings = [ranks_of(m.scores, lower_is_better=LOWER_IS_BETTER[m.scorer or ""]) for m in members]
    fused = reciprocal_rank_fusion(rankings, k=k)
    order = sorted(range(len(fused)), key=lambda i: (-fused[i], i))
    position = {i: n for n, i in enumerate(order, start=1)}
    segments = [Chunk(doc_id="d", index=i, start=i, end=i + 1, text="", tokens=t, lines=(1, 1))
                for i, t in enumerate(first.segment_tokens or [])]
    chosen = select_segments(segments, fused, budget=budget, lower_is_better=False)
    ranks = [min((position[i] for i in held), default=None) for held in first.holding or []]
    selected = all(any(chosen[i] for i in held) for held in first.holding or [])
    return first.model_copy(update={
        "scorer": name, "selected": selected, "ranks": ranks, "scores": None,
        # members' costs added up: an upper bound when two members share requests
        "calls": sum(m.calls for m in members),
        "seconds": round(sum(m.seconds for m in members), 3),
    })


def lexical_row(needle: SuiteNeedle, essays: str, *, tokens: int, depth: float, window: int) -> SuiteRow:
    """The lexical selection row of one cell, with its segment scores (no model: BM25 is
    recomputed, for cells whose lexical row was recorded without them)."""
    from ...retrieval.lexical import LexicalScorer
    from .sweep import key_budget

    stack = build_suite_haystack(essays, needle, tokens=tokens, depth=depth)
    (row,) = asyncio.run(select_cell(needle, stack, {"lexical": LexicalScorer()}, None,
                                     budget=key_budget(window, needle.question)))
    return row.model_copy(update={"tokens": tokens, "depth": float(depth)})
