"""RangeCounter: counts of byte ranges from one encode must equal encoding the range alone."""

from __future__ import annotations

import random
from pathlib import Path

from longdoc.splitters.range_counter import RangeCounter
from longdoc.tokens import count_tokens

FIXTURES = Path(__file__).parent / "fixtures"


def char_boundaries(data: bytes) -> list[int]:
    return [i for i in range(len(data) + 1) if i == len(data) or (data[i] & 0xC0) != 0x80]


def test_exact_counts_match_encoding_the_range_alone():
    rng = random.Random(7)
    texts = [path.read_text(encoding="utf-8") for path in sorted(FIXTURES.iterdir())]
    texts.append("Größe = 1\n\n\n    東京 🎉 x  \r\n\ty = [1,\n  2]  // done\n" * 20)
    for text in texts:
        data = text.encode()
        ranges = RangeCounter(data)
        boundaries = char_boundaries(data)
        line_starts = [0] + [i + 1 for i, byte in enumerate(data) if byte == 0x0A]
        for _ in range(60):
            pool = line_starts if rng.random() < 0.5 else boundaries
            start, end = sorted(rng.sample(pool, 2))
            assert ranges.exact(start, end) == count_tokens(data[start:end].decode()), (start, end)


def test_estimate_is_close_and_custom_counters_work():
    text = (FIXTURES / "shapes.py").read_text(encoding="utf-8")
    data = text.encode()
    ranges = RangeCounter(data)
    assert ranges.estimate(0, len(data)) == count_tokens(text)
    words = RangeCounter(data, lambda piece: len(piece.split()))
    assert words.estimate(0, len(data)) == sum(len(line.split()) for line in text.splitlines())
    assert words.exact(0, len(data)) == len(text.split())
