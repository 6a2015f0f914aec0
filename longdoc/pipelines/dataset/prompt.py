"""One prompt of a dataset run: written with AgentWrite and judged, as a row for OUT, a
reject with its reason, or a model failure left for the rerun (`PromptOutcome`).

Whichever executor writes the prompt (this process, a worker process, a Ray actor), it is
written and judged here, and its outcome applied by the run in the driver process.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Literal

from ...agents.length import count_words
from ...agents.repetition import repeated_ngram_share
from ...errors import ModelError, PipelineError
from ..agent_write import AgentWrite, WriteResult
from .input import PromptItem
from .options import DatasetOptions

REPETITION_NGRAM = 4


def quality_problem(result: WriteResult, options: DatasetOptions) -> str | None:
    """Why a written piece is unfit for the dataset, or None when it passes."""
    if count_words(result.text) == 0:
        return "empty output"
    share = repeated_ngram_share(result.text, REPETITION_NGRAM)
    if share > options.max_repetition:
        return f"repetitive: {share:.0%} of word {REPETITION_NGRAM}-grams repeat (limit {options.max_repetition:.0%})"
    if result.length_score < options.min_length_score:
        return (
            f"length score {result.length_score:.1f} under {options.min_length_score:g} "
            f"({result.words} words for a target of {result.target_words})"
        )
    return None


@dataclass(frozen=True)
class PromptOutcome:
    """What became of one prompt, decided where it was written (this process or a worker
    process) and applied by the run: a row for OUT (`target` "out") or for the rejects file
    ("rejects"), or a model failure left for the rerun (`failure`)."""

    line: int
    key: str
    target: Literal["out", "rejects"] | None = None
    row: dict[str, Any] | None = None
    failure: ModelError | None = None
    calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0


async def write_prompt(pipeline: AgentWrite, item: PromptItem, key: str, options: DatasetOptions) -> PromptOutcome:
    """Write one prompt and judge it: its row, its reject (with the reason) or its failure."""
    try:
        result = await pipeline.arun(item.prompt, item.words, key=key)
    except PipelineError as exc:
        row = {"id": key, "line": item.line, "prompt": item.prompt, "reason": f"no usable text: {exc}"}
        return PromptOutcome(item.line, key, "rejects", row)
    except ModelError as exc:
        return PromptOutcome(item.line, key, failure=exc)
    usage = {
        "calls": result.usage.calls,
        "prompt_tokens": result.usage.prompt_tokens,
        "completion_tokens": result.usage.completion_tokens,
    }
    problem = quality_problem(result, options)
    meta = _meta(item, key, result)
    if problem is not None:
        row = {"id": key, "line": item.line, "prompt": item.prompt, "reason": problem, "meta": meta, "text": result.text}
        return PromptOutcome(item.line, key, "rejects", row, **usage)
    row = {
        "id": key,
        "messages": [
            {"role": "user", "content": item.prompt},
            {"role": "assistant", "content": result.text},
        ],
    }
    if options.with_meta:
        row["meta"] = meta
    return PromptOutcome(item.line, key, "out", row, **usage)


def _meta(item: PromptItem, key: str, result: WriteResult) -> dict[str, Any]:
    return {
        "id": key,
        "line": item.line,
        "words": result.words,
        "target_words": result.target_words,
        "length_score": round(result.length_score, 2),
        "plan": [{"main_point": s.main_point, "words": s.words} for s in result.plan.sections],
        "plan_source": result.plan.source,
        "model": result.model,
        "calls": result.usage.calls,
        "prompt_tokens": result.usage.prompt_tokens,
        "completion_tokens": result.usage.completion_tokens,
        "seconds": round(result.seconds, 3),
        "resumed_sections": result.resumed_sections,
    }


def portable(outcome: PromptOutcome) -> PromptOutcome:
    """`outcome` with its failure as a plain ModelError (subclasses with extra required
    arguments do not survive pickling); message, model, status and attempts are kept."""
    error = outcome.failure
    if error is None or type(error) is ModelError:
        return outcome
    plain = ModelError(str(error), model=error.model, status=error.status, attempts=error.attempts)
    return replace(outcome, failure=plain)
