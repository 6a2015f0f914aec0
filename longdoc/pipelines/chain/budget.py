"""The Chain-of-Agents token budget: how big a chunk may be so that no prompt overflows.

The paper sizes chunks as window − query − instruction, which forgets that a worker
also reads the previous notes and must leave room for its own output. Ours:

    chunk = window − safety − instruction − query − notes read − worker output

where the notes read are the whole notes (up to their cap) for a question, and only
their latest entries (the view cap) for a summary, whose workers each report on their
own part while the whole notes travel on to the manager; and where `safety` absorbs the difference between our counter (tiktoken) and the model's
own tokenizer. Every term is counted, none guessed, and the result is checked to be
usable; the same budget sizes the manager's notes and answer.
"""

from __future__ import annotations

from dataclasses import dataclass

from ...errors import ConfigError

SAFETY_FRACTION = 0.10
"""Share of the window kept free: the model's tokenizer (Gemma's, say) may count the same
text up to ~10% differently from tiktoken's o200k, more for code than for prose."""

SAFETY_MIN = 32
"""Tokens kept free even in small windows (chat-template overhead of a few tokens per turn)."""

NOTES_FRACTION = 0.10
"""Share of the window a question's worker reads of the running notes: enough for a few
facts per chunk, small enough that the prompt tokens sent stay close to the document
tokens (ratio ≈ 1.2)."""

NOTES_MIN, NOTES_MAX = 160, 2048
"""The notes cap stays in this range: a few sentences at 2k windows, a page at 128k."""

VIEW_FRACTION = 0.03
"""Share of the window a summary worker spends reading the latest notes: where the text
stands (a few sentences), not the whole notes, which only the manager needs."""

VIEW_MIN, VIEW_MAX = 64, 512

SUMMARY_NOTES_FRACTION = 0.25
"""Share of the window a summary's whole notes may take. Only the manager reads them (the
workers read the view), so they can hold far more than a worker reads: a note or a
sentence from every part of a long book, not from a dozen. A question's quoted notes
(the base path: evidence the pipeline selects) take the same share; each worker reads the
most relevant `notes_cap` of them, and the manager all, so that an answer found early is
not pushed out by the many chunks read after it."""

SUMMARY_NOTES_MAX = 8192
"""...but never more than this: the manager's one prompt stays affordable on a paid API."""

WORKER_OUTPUT_MIN, WORKER_OUTPUT_MAX = 64, 320
"""A worker writes a short note (an answer or three sentences), never a long text."""

MIN_CHUNK_TOKENS = 128
"""Below this a chunk holds too little text for a worker call to be worth its overhead."""

MANAGER_OUTPUT_QUESTION = 256
"""An answer to a question: a sentence or a short paragraph."""


@dataclass(frozen=True)
class ChainBudget:
    """Token budget of one Chain-of-Agents run."""

    window: int
    safety: int
    instruction: int
    query: int
    notes_cap: int
    worker_notes: int
    """Tokens of notes a worker reads: the view cap for summaries; for questions
    NOTES_FRACTION of the window (the most relevant notes; all of them when a chat model
    rewrites them, since it writes them within this cap)."""
    worker_output: int
    chunk_tokens: int
    manager_output: int
    manager_notes: int
    """Tokens the manager may read of (merged) notes."""
    reasoning: int = 0
    """Output tokens reserved on top of every answer for a reasoning model's thinking."""

    @property
    def worker_prompt_max(self) -> int:
        """The largest worker prompt this budget allows (by our counter)."""
        return self.instruction + self.query + self.worker_notes + self.chunk_tokens


def plan_budget(
    window: int,
    *,
    instruction_tokens: int,
    query_tokens: int,
    manager_instruction_tokens: int,
    manager_output: int = MANAGER_OUTPUT_QUESTION,
    summary: bool = False,
    rewrite_notes: bool = False,
    reasoning: int = 0,
) -> ChainBudget:
    """The budget for agents with `window` tokens of context.

    `instruction_tokens` is the worker prompt without chunk, notes and query (its longest
    rendering, with the longest source label); `query_tokens` the question or focus;
    `summary` gives workers the view of the latest notes instead of the whole notes, and
    the whole notes (which only the manager reads) a larger cap. `rewrite_notes` (a chat
    model's question workers write the whole notes anew) sizes the worker's output to the
    notes cap; `reasoning` is reserved on top of every output for a model's thinking.
    Raises ConfigError when the window cannot hold a useful chunk.
    """
    safety = max(SAFETY_MIN, int(window * SAFETY_FRACTION))
    notes_cap = min(NOTES_MAX, max(NOTES_MIN, int(window * NOTES_FRACTION)))
    worker_notes = min(notes_cap, VIEW_MAX, max(VIEW_MIN, int(window * VIEW_FRACTION))) if summary else notes_cap
    worker_output = min(WORKER_OUTPUT_MAX, max(WORKER_OUTPUT_MIN, window // 32))
    if rewrite_notes:
        worker_output = max(worker_output, notes_cap)
    chunk = window - safety - instruction_tokens - query_tokens - worker_notes - worker_output - reasoning
    if chunk < MIN_CHUNK_TOKENS:
        raise ConfigError(
            f"a {window}-token window leaves {chunk} tokens for each chunk after the "
            f"instruction ({instruction_tokens}), query ({query_tokens}), notes "
            f"({worker_notes}) and output ({worker_output + reasoning}); use a larger --window or a "
            "shorter question"
        )
    usable = window - safety - manager_instruction_tokens - query_tokens - reasoning
    manager_output = min(manager_output, usable // 2)
    manager_notes = usable - manager_output
    if summary or not rewrite_notes:  # a chat model's rewritten notes stay within notes_cap
        wanted = min(SUMMARY_NOTES_MAX, int(window * SUMMARY_NOTES_FRACTION))
        notes_cap = max(notes_cap, min(manager_notes, wanted))
    return ChainBudget(
        window=window,
        safety=safety,
        instruction=instruction_tokens,
        query=query_tokens,
        notes_cap=notes_cap,
        worker_notes=worker_notes,
        worker_output=worker_output,
        chunk_tokens=chunk,
        manager_output=manager_output,
        manager_notes=manager_notes,
        reasoning=reasoning,
    )
