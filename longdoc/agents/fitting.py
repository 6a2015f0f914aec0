"""Cutting text to a token budget: the longest prefix (of words, lines, characters) that fits.

Counting tokens costs far more than slicing, so the cut is a binary search over how many
pieces to keep, counting O(log n) prefixes rather than every one.
"""

from __future__ import annotations

from collections.abc import Callable


def longest_fitting(count: int, fits: Callable[[int], bool]) -> int:
    """The largest k in 0..count for which `fits(k)` holds, where `fits` holds for every k
    up to some point and for none beyond it (a prefix of k pieces fits the budget)."""
    lo, hi = 0, count
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if fits(mid):
            lo = mid
        else:
            hi = mid - 1
    return lo
