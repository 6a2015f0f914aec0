"""Needle-in-a-haystack material: essays cut to a token length with one sentence (the
needle) placed at a depth, and the checks of whether a strategy found and used it."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel

from ..config import DEFAULT_SCORER, Settings
from ..documents import Document
from ..errors import InvalidValue, SourceError
from ..llm.base import Model
from ..results import AnswerResult
from ..retrieval.scorers import make_scorer
from ..text import terms
from ..tokens import DEFAULT_ENCODING, get_encoding

DATA_DIR = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "needle_haystack"
"""Where the team's copy of the standard haystack lives, beside the repository."""

ANSWER_RECALL_NEEDED = 0.5
"""Share of the needle's answer words (its words not in the question) an answer must
contain to count as answered: "eat a sandwich and sit in Dolores Park" passes, a bare
"Dolores Park" does not."""

_SENTENCE_END = re.compile(r"[.!?][\"')\]]*\s")


@dataclass(frozen=True)
class Needle:
    text: str
    question: str


@dataclass(frozen=True)
class Haystack:
    """A haystack text with the needle at [needle_start, needle_end)."""

    text: str
    tokens: int
    depth: float
    needle_start: int
    needle_end: int


def load_needle(config: str | Path | None = None) -> Needle:
    """The single needle and its question from `needle_config.json`."""
    path = Path(config) if config else DATA_DIR / "needle_config.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        single = data["single_needle"]
        return Needle(text=single["needle"], question=single["retrieval_question"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise SourceError(f"cannot read the needle config: {exc}", path=path) from exc


def load_essays(folder: str | Path | None = None) -> str:
    """The essays of `folder` (default: the shared Paul Graham essays), joined in name order."""
    folder = Path(folder) if folder else DATA_DIR / "PaulGrahamEssays"
    files = sorted(folder.glob("*.txt"))
    if not files:
        raise SourceError("no .txt essays found for the haystack", path=folder)
    return "".join(p.read_text(encoding="utf-8") for p in files)


def build_haystack(
    essays: str, needle: str, *, tokens: int, depth: float, encoding: str = DEFAULT_ENCODING
) -> Haystack:
    """`tokens` tokens in all: the essays' first (tokens - needle) tokens with the needle
    inserted at the sentence boundary at or before `depth` percent of the text (0 = start,
    100 = end)."""
    if not 0 <= depth <= 100:
        raise InvalidValue(f"depth must be between 0 and 100, got {depth}", setting="depth", value=depth)
    enc = get_encoding(encoding)
    room = tokens - len(enc.encode_ordinary(needle))
    ids = enc.encode_ordinary(essays)
    if room < 1 or len(ids) < room:
        raise SourceError(f"the essays hold {len(ids)} tokens; a {tokens}-token haystack needs more")
    context = enc.decode(ids[:room])
    at = int(len(context) * depth / 100)
    if 0 < at < len(context):
        boundaries = [m.end() for m in _SENTENCE_END.finditer(context, 0, at)]
        at = boundaries[-1] if boundaries else 0
    text = context[:at] + needle + context[at:]
    return Haystack(
        text=text, tokens=len(enc.encode_ordinary(text)), depth=depth, needle_start=at, needle_end=at + len(needle)
    )


def answer_words(needle: Needle) -> set[str]:
    """The needle's own words that its question does not already give away."""
    return set(terms(needle.text)) - set(terms(needle.question))


def answer_recall(text: str, needle: Needle) -> float:
    """Share of the needle's answer words that `text` contains."""
    wanted = answer_words(needle)
    return len(wanted & set(terms(text))) / len(wanted) if wanted else 0.0


def contains_answer(text: str, needle: Needle) -> bool:
    return answer_recall(text, needle) >= ANSWER_RECALL_NEEDED


# --------------------------------------------------------------------------- running cells


class NeedleCell(BaseModel):
    """One cell of the sweep: did the strategy keep the needle, and did its answer use it?"""

    tokens: int
    depth: float
    strategy: str
    scorer: str | None = None
    selected: bool
    """xl3m: the needle is inside the selected key context; chain: its answer words reached
    the final notes."""
    answered: bool
    answer_recall: float
    answer: str
    calls: int
    prompt_tokens: int
    seconds: float
    rank: int | None = None
    """xl3m: rank of the best segment holding the whole needle among all segments by the
    scorer (1 = most relevant); None for chain or when no segment holds it whole."""
    segments: int | None = None
    """xl3m: how many segments were scored."""
    fallback: bool | None = None
    """xl3m: the model's own reply was empty or ungrounded, so the manager answered with the
    text of the best selected segments instead (`answered` then only says the needle was
    among them); None for other strategies."""


def needle_kept(result: AnswerResult, needle: Needle) -> bool:
    """Whether the needle survived the reading: whole in the key context (xl3m), or its
    answer words in the last notes (chain)."""
    if not result.notes:
        return False
    if result.segments is not None:
        return needle.text.strip() in result.notes[-1]
    return contains_answer(result.notes[-1], needle)


def is_segment_fallback(answer: str, segment_texts: Iterable[str]) -> bool:
    """Whether `answer` is the manager's fallback in XL3M: it starts with a whole segment."""
    text = answer.strip()
    return any(seg.strip() and text.startswith(seg.strip()) for seg in segment_texts)


def needle_rank(result: AnswerResult, haystack: Haystack, *, lower_is_better: bool) -> int | None:
    """Rank (1 = best) of the best-scored segment that holds the whole needle, or None."""
    if not result.segments:
        return None
    sign = 1.0 if lower_is_better else -1.0
    order = sorted(range(len(result.segments)), key=lambda i: (sign * result.segments[i].score, i))
    holding = {
        i for i, s in enumerate(result.segments) if s.start <= haystack.needle_start + 1 and s.end >= haystack.needle_end - 1
    }
    ranks = [n for n, i in enumerate(order, start=1) if i in holding]
    return ranks[0] if ranks else None


def run_cell(
    haystack: Haystack,
    needle: Needle,
    *,
    strategy: str,
    model: Model,
    settings: Settings | None = None,
    scorer: str | None = None,
    window: int | None = None,
) -> NeedleCell:
    """Ask the needle's question of one haystack with `strategy` (xl3m with `scorer`, chain
    or hierarchical) and check the outcome."""
    document = Document.from_text(haystack.text, path=f"haystack-{haystack.tokens}-{haystack.depth:g}.txt")
    started = time.perf_counter()
    rank = fallback = None
    if strategy == "xl3m":
        from ..pipelines.xl3m import xl3m

        concurrency = settings.concurrency if settings else 4
        relevance = make_scorer(scorer or DEFAULT_SCORER, model, concurrency=concurrency)
        result = xl3m([document], needle.question, model, relevance, window=window)
        rank = needle_rank(result, haystack, lower_is_better=relevance.lower_is_better)
        kept = [document.text[s.start : s.end] for s in result.segments or () if s.selected]
        fallback = is_segment_fallback(result.answer, kept)
    else:
        from ..api import ask

        result = ask(document, needle.question, strategy=strategy, settings=settings, model=model)
    recall = answer_recall(result.answer, needle)
    return NeedleCell(
        tokens=haystack.tokens,
        depth=haystack.depth,
        strategy=strategy,
        scorer=scorer if strategy == "xl3m" else None,
        selected=needle_kept(result, needle),
        answered=recall >= ANSWER_RECALL_NEEDED,
        answer_recall=round(recall, 3),
        answer=result.answer,
        calls=result.usage.calls,
        prompt_tokens=result.usage.prompt_tokens,
        seconds=round(time.perf_counter() - started, 3),
        rank=rank,
        fallback=fallback,
        segments=len(result.segments) if result.segments is not None else None,
    )
