"""A deterministic stand-in author for AgentWrite tests and benchmarks, served by any fake.

`author_reply(request)` answers a planning prompt with well-formed plan lines and a section
prompt with fresh prose of the length asked (`share` of it), so that pipelines, dataset runs
and the latency benchmark exercise the real parsing, length control and checkpoints without a
real model. Prose is drawn from a seeded generator keyed by the prompt, so replies are
reproducible and different sections never repeat each other.
"""

from __future__ import annotations

import hashlib
import itertools
import random
import re

from ..llm.base import CompletionRequest
from ..llm.fake import request_text

_FUNCTION_WORDS = ["the", "of", "and", "to", "a", "in", "that", "is", "was", "it", "for", "on", "with", "as", "by", "at", "from", "this", "be", "are", "or", "an", "which", "but", "not", "have", "had", "its", "their", "they", "were", "has", "one", "all", "would", "there", "been", "when", "more", "so", "can", "into", "than", "other", "some", "what", "also", "only", "these", "may", "then", "about", "over", "such", "after", "most"]
_CONTENT_WORDS = ["river", "stone", "valley", "harbor", "lantern", "orchard", "meadow", "copper", "signal", "winter", "bridge", "market", "cedar", "falcon", "garden", "island", "mirror", "quarry", "saddle", "timber", "violet", "walnut", "amber", "beacon", "canyon", "delta", "ember", "fable", "glacier", "hollow", "inlet", "jasper", "kettle", "ledger", "marble", "nectar", "oyster", "pepper", "quiver", "rafter", "summit", "thistle", "vessel", "willow", "harvest", "compass", "lighthouse", "engine", "archive", "festival"]
_ONSETS = ("b", "c", "d", "f", "g", "h", "l", "m", "n", "p", "r", "s", "t", "v", "w", "br", "cl", "dr", "gr", "pl", "st", "tr")
_NUCLEI = ("a", "e", "i", "o", "u", "ai", "ea", "ou")
_CODAS = ("", "n", "r", "s", "t", "l", "nd", "st", "m")


def _vocabulary() -> list[str]:
    """The stand-in author's words, most frequent first: English function words, then content
    words (real ones, then made-up ones such as "plegt"), 2,000 in all. Drawn with
    Zipf's law, like real prose: few words everywhere, most words rare. (A small flat
    vocabulary makes every sentence a near-duplicate candidate of every other, which no real
    model output does.)"""
    made = [
        a + b + c + d
        for a in _ONSETS
        for b in _NUCLEI
        for c in _ONSETS[:8]
        for d in _CODAS
    ]
    rng = random.Random(1)
    rng.shuffle(made)
    words = list(dict.fromkeys(_FUNCTION_WORDS + _CONTENT_WORDS + made))
    return words[:2000]


_VOCABULARY = _vocabulary()
_ZIPF = list(itertools.accumulate(1.0 / rank for rank in range(1, len(_VOCABULARY) + 1)))
_PLAN_COUNT = re.compile(r"Plan \((\d+) paragraphs")
_SECTION_BUDGET = re.compile(r"about (\d+) words\):")
_CHAT_PLAN = re.compile(r"into exactly (\d+) paragraphs")
_CHAT_PLANNED = re.compile(r"Give the lines for paragraphs (\d+) to")
_CHAT_BUDGET = re.compile(r"It should be about (\d+) words long")


def prose(words: int, seed: str) -> str:
    """`words` words of varied sentences, reproducible from `seed`."""
    rng = random.Random(hashlib.sha256(seed.encode()).hexdigest())
    sentences, total = [], 0
    while total < words:
        n = min(rng.randint(8, 24), words - total)
        chosen = rng.choices(_VOCABULARY, cum_weights=_ZIPF, k=n)
        sentences.append(" ".join(chosen).capitalize() + ".")
        total += n
    return " ".join(sentences)


def is_plan_request(request: CompletionRequest) -> bool:
    return request_text(request).rstrip().endswith("Main Point:")


def author_reply(request: CompletionRequest, *, share: float = 0.95) -> str:
    """A plan when asked for one, else `share` of the asked section length in prose."""
    text = request_text(request)
    chat_plan = _CHAT_PLAN.search(text)
    if chat_plan:
        planned = _CHAT_PLANNED.search(text)
        first = int(planned.group(1)) if planned else 1
        return "\n".join(
            f"Paragraph {n} - Main Point: Describe aspect {n} of the subject in depth. - Word Count: 300 words"
            for n in range(first, int(chat_plan.group(1)) + 1)
        )
    if is_plan_request(request):
        first = int(text.rsplit("Paragraph ", 1)[1].split()[0])
        found = _PLAN_COUNT.findall(text)
        count = int(found[-1]) if found else first
        lines = []
        for n in range(first, count + 1):
            head = "" if n == first else f"Paragraph {n} - Main Point:"
            lines.append(f"{head} Describe aspect {n} of the subject in depth. - Word Count: 300 words")
        return "\n".join(lines) + "\n"
    budgets = _CHAT_BUDGET.findall(text) or _SECTION_BUDGET.findall(text)
    budget = int(budgets[-1]) if budgets else 200
    return " " + prose(max(1, int(budget * share)), text[-2000:])
