"""A deterministic stand-in author for AgentWrite tests and benchmarks, served by any fake.

`author_reply(request)` answers a planning prompt with well-formed plan lines and a section
prompt with fresh prose of the length asked (`share` of it), so that pipelines, dataset runs
and the latency benchmark exercise the real parsing, length control and checkpoints without a
real model. Prose is drawn from a seeded generator keyed by the prompt, so replies are
reproducible and different sections never repeat each other.
"""

from __future__ import annotations

import hashlib
import random
import re

from ..llm.base import CompletionRequest
from ..llm.fake import request_text

_VOCABULARY = ["river", "stone", "valley", "harbor", "lantern", "orchard", "meadow", "copper", "signal", "winter", "bridge", "market", "cedar", "falcon", "garden", "island", "mirror", "quarry", "saddle", "timber", "violet", "walnut", "amber", "beacon", "canyon", "delta", "ember", "fable", "glacier", "hollow", "inlet", "jasper", "kettle", "ledger", "marble", "nectar", "oyster", "pepper", "quiver", "rafter", "summit", "thistle", "vessel", "willow", "harvest", "compass", "lighthouse", "engine", "archive", "festival"]
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
        n = min(rng.randint(7, 12), words - total)
        sentences.append(" ".join(rng.choice(_VOCABULARY) for _ in range(n)).capitalize() + ".")
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
