"""Length evaluation in the LongBench-Write way: write every prompt, score each length (S_l)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from ..errors import InputFormatError, SourceError
from ..llm.base import RunUsage
from .agent_write import AgentWrite, WriteResult


class LengthPrompt(BaseModel):
    """One LongBench-Write prompt: the instruction and its required length in words."""

    model_config = ConfigDict(frozen=True)

    prompt: str = Field(min_length=1)
    length: int = Field(ge=1)
    type: str | None = None


class LengthRow(BaseModel):
    prompt: str
    type: str | None
    target_words: int
    words: int
    length_score: float
    seconds: float
    calls: int


class LengthReport(BaseModel):
    mean_length_score: float
    rows: list[LengthRow]
    usage: RunUsage

    def to_json(self) -> dict[str, object]:
        return {
            "mean_length_score": round(self.mean_length_score, 2),
            "rows": [r.model_dump() for r in self.rows],
            "usage": self.usage.model_dump(),
        }


def read_length_prompts(path: Path) -> list[LengthPrompt]:
    """The prompts of a LongBench-Write JSONL file (`prompt`, `length`, optional `type`)."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise SourceError(f"cannot read prompts: {exc.strerror or exc}", path=path) from exc
    prompts = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            prompts.append(LengthPrompt.model_validate(json.loads(line)))
        except (json.JSONDecodeError, ValueError) as exc:
            raise InputFormatError(
                f"expected a JSON object with `prompt` and `length`: {str(exc).splitlines()[0]}",
                path=path,
                line=number,
            ) from exc
    return prompts


async def evaluate_length(
    prompts: list[LengthPrompt],
    pipeline: AgentWrite,
    *,
    concurrency: int = 1,
    on_row: Callable[[LengthRow, int, int], None] | None = None,
) -> LengthReport:
    """Write every prompt with `pipeline` (at most `concurrency` at once) and score lengths."""
    semaphore = asyncio.Semaphore(max(1, concurrency))
    done = 0
    usage = RunUsage()

    async def one(item: LengthPrompt) -> LengthRow:
        nonlocal done
        async with semaphore:
            result: WriteResult = await pipeline.arun(item.prompt, item.length)
        row = LengthRow(
            prompt=item.prompt,
            type=item.type,
            target_words=item.length,
            words=result.words,
            length_score=result.length_score,
            seconds=result.seconds,
            calls=result.usage.calls,
        )
        for field in ("calls", "cached_calls", "prompt_tokens", "completion_tokens"):
            setattr(usage, field, getattr(usage, field) + getattr(result.usage, field))
        done += 1
        if on_row:
            on_row(row, done, len(prompts))
        return row

    rows = list(await asyncio.gather(*(one(p) for p in prompts)))
    mean = sum(r.length_score for r in rows) / len(rows) if rows else 0.0
    return LengthReport(mean_length_score=mean, rows=rows, usage=usage)

