"""Reciprocal rank fusion (Cormack, Clarke and Buettcher, SIGIR 2009) of several scorers:
each segment's fused score is the sum over scorers of 1 / (k + its rank by that scorer).
Unlike a shortlist, no scorer can drop a segment on its own: a needle BM25 misses (a
paraphrased question) can still rank high on model certainty, and the other way round."""

from __future__ import annotations

from collections.abc import Sequence

from ..documents import Chunk
from ..errors import ConfigError
from ..llm.base import RunUsage

DEFAULT_RRF_K = 60
"""The constant from the paper; large k flattens the difference between the top ranks."""


def ranks_of(scores: Sequence[float], *, lower_is_better: bool) -> list[int]:
    """Competition ranks (1 = best; tied scores share the better rank, as BM25's zeros do)."""
    sign = 1.0 if lower_is_better else -1.0
    keys = [sign * s for s in scores]
    ordered = sorted(keys)
    first = {}
    for position, key in enumerate(ordered, start=1):
        first.setdefault(key, position)
    return [first[key] for key in keys]


def reciprocal_rank_fusion(rankings: Sequence[Sequence[int]], *, k: int = DEFAULT_RRF_K) -> list[float]:
    """Sum of 1 / (k + rank) per item over the rankings (higher = better)."""
    if not rankings:
        return []
    return [sum(1.0 / (k + ranking[i]) for ranking in rankings) for i in range(len(rankings[0]))]


class FusionScorer:
    """Reciprocal rank fusion of `members` (higher = more relevant)."""

    lower_is_better = False

    def __init__(self, members: Sequence, *, k: int = DEFAULT_RRF_K, name: str = "fusion") -> None:
        if len(members) < 2:
            raise ConfigError(f"fusion needs at least two scorers, got {len(members)}")
        if k < 1:
            raise ConfigError(f"the fusion constant k must be at least 1, got {k}")
        self.members = list(members)
        self.k = k
        self.name = name

    @property
    def usage(self) -> RunUsage:
        total = RunUsage()
        seen: set[int] = set()
        for member in self.members:
            usage = getattr(member, "usage", None)
            if usage is not None and id(usage) not in seen:  # members may share one certainty
                seen.add(id(usage))
                total = RunUsage(
                    calls=total.calls + usage.calls,
                    cached_calls=total.cached_calls + usage.cached_calls,
                    prompt_tokens=total.prompt_tokens + usage.prompt_tokens,
                    completion_tokens=total.completion_tokens + usage.completion_tokens,
                )
        return total

    async def score(self, segments: Sequence[Chunk], question: str) -> list[float]:
        rankings = []
        for member in self.members:
            scores = await member.score(segments, question)
            rankings.append(ranks_of(scores, lower_is_better=member.lower_is_better))
        return reciprocal_rank_fusion(rankings, k=self.k)
