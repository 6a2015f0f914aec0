"""Hiding a suite needle in the essays: its sentence(s) at chosen depths, its distractors at
others, the whole cut to a token length, with every inserted span's place recorded."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ...errors import InvalidValue, SourceError
from ...tokens import DEFAULT_ENCODING, get_encoding
from .suite import SuiteNeedle

_SENTENCE_END = re.compile(r"[.!?][\"')\]]*\s")

DISTRACTOR_STEP = 35
"""Distractor k goes at depth + 35 * (k + 1) percent (mod 100): at least a quarter of the
text away from the needle, and from a second distractor."""


@dataclass(frozen=True)
class SuiteHaystack:
    """The essays with the needle sentences at `needle_spans` and the distractors at
    `distractor_spans` ([start, end) character offsets into `text`)."""

    text: str
    tokens: int
    depth: float
    needle_depths: tuple[float, ...]
    needle_spans: tuple[tuple[int, int], ...]
    distractor_spans: tuple[tuple[int, int], ...]


def needle_depths(depth: float, count: int) -> list[float]:
    """Depth of each of `count` needle sentences: the first at `depth`, the others spread
    evenly around the text from there (two needles: half the text apart)."""
    return [depth if i == 0 else (depth + 100 * i / count) % 100 for i in range(count)]


def distractor_depths(depth: float, count: int) -> list[float]:
    return [(depth + DISTRACTOR_STEP * (k + 1)) % 100 for k in range(count)]


def boundary_at(context: str, depth: float) -> int:
    """The sentence boundary at or before `depth` percent of `context` (0 and 100 exact)."""
    at = int(len(context) * depth / 100)
    if 0 < at < len(context):
        ends = [m.end() for m in _SENTENCE_END.finditer(context, 0, at)]
        at = ends[-1] if ends else 0
    return at


def build_suite_haystack(
    essays: str, needle: SuiteNeedle, *, tokens: int, depth: float, encoding: str = DEFAULT_ENCODING
) -> SuiteHaystack:
    """`tokens` tokens in all: the essays' opening with the needle's sentences and
    distractors inserted at sentence boundaries (see `needle_depths`, `distractor_depths`)."""
    if not 0 <= depth <= 100:
        raise InvalidValue(f"depth must be between 0 and 100, got {depth}", setting="depth", value=depth)
    enc = get_encoding(encoding)
    placed_needles = list(zip(needle_depths(depth, len(needle.needles)), needle.needles, strict=True))
    placed_distractors = list(zip(distractor_depths(depth, len(needle.distractors)), needle.distractors, strict=True))
    inserts = [(d, f" {s} ", "needle", i) for i, (d, s) in enumerate(placed_needles)]
    inserts += [(d, f" {s} ", "distractor", i) for i, (d, s) in enumerate(placed_distractors)]
    room = tokens - sum(len(enc.encode_ordinary(text)) for _, text, _, _ in inserts)
    ids = enc.encode_ordinary(essays)
    if room < 1 or len(ids) < room:
        raise SourceError(f"the essays hold {len(ids)} tokens; a {tokens}-token haystack needs more")
    context = enc.decode(ids[:room])
    positioned = sorted(
        ((boundary_at(context, d), role != "needle", i, text, role) for d, text, role, i in inserts),
    )
    parts: list[str] = []
    spans: dict[tuple[str, int], tuple[int, int]] = {}
    cursor = offset = 0
    for at, _, i, text, role in positioned:
        parts.append(context[cursor:at])
        offset += at - cursor
        cursor = at
        start = offset + 1  # the inserted sentence without its padding spaces
        spans[(role, i)] = (start, start + len(text) - 2)
        parts.append(text)
        offset += len(text)
    parts.append(context[cursor:])
    text = "".join(parts)
    return SuiteHaystack(
        text=text,
        tokens=len(enc.encode_ordinary(text)),
        depth=depth,
        needle_depths=tuple(d for d, _ in placed_needles),
        needle_spans=tuple(spans[("needle", i)] for i in range(len(needle.needles))),
        distractor_spans=tuple(spans[("distractor", i)] for i in range(len(needle.distractors))),
    )
