"""What `ask` and `summarize` share on the command line: progress on stderr, the result on stdout."""

from __future__ import annotations

import time
from typing import Any

from rich.console import Console
from rich.markup import escape

from ..pipelines.chain.models import ChainPlan, ProgressEvent
from ..results import AnswerResult


class ProgressPrinter:
    """One stderr line per model call: chunks done/total, tokens in/out, elapsed, ETA."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.tokens_in = 0
        self.tokens_out = 0
        self.started = time.perf_counter()

    def __call__(self, event: ProgressEvent) -> None:
        self.tokens_in += event.prompt_tokens
        self.tokens_out += event.completion_tokens
        elapsed = time.perf_counter() - self.started
        if event.stage == "manager":
            where = "manager"
            eta = ""
        else:
            where = f"worker {event.done}/{event.total}"
            left = event.total - event.done
            eta = f", ETA {elapsed / event.done * left:.0f}s" if event.done and left else ""
        cached = " (cached)" if event.cached else ""
        self.console.print(
            f"[dim]{where}[/] {escape(event.source)}{cached}: "
            f"{self.tokens_in:,} tokens in, {self.tokens_out:,} out, {elapsed:.1f}s{eta}",
            highlight=False,
        )


def result_json(result: AnswerResult, *, trace: bool = False) -> dict[str, Any]:
    """The --json contract of ask and summarize (notes only with --trace)."""
    data = result.model_dump(mode="json", exclude={"notes"} if not trace else set())
    if data.get("segments") is None:
        data.pop("segments", None)
    return data


def plan_json(plan: ChainPlan) -> dict[str, Any]:
    data = plan.summary()
    data["dry_run"] = True
    return data


def print_plan(console: Console, plan: ChainPlan) -> None:
    console.print(
        f"{plan.chunks} chunks of at most {plan.chunk_tokens:,} tokens "
        f"({plan.document_tokens:,} document tokens, {plan.window:,}-token window), "
        f"strategy {plan.strategy} in {len(plan.groups)} group(s): "
        f"{plan.calls} model calls, at most {plan.prompt_tokens:,} prompt tokens.",
        highlight=False,
    )


def warn_fallback(err: Console, result: AnswerResult) -> None:
    """The one stderr line that says the answer is not the model's own."""
    if not result.fallback:
        return
    why = "wrote nothing" if not (result.raw_answer or "").strip() else "wrote an answer the notes do not support"
    taken = "the notes' best evidence" if result.evidence or result.strategy == "xl3m" else "the notes"
    err.print(
        f"[yellow]fallback:[/] the model ({result.profile} profile) {why}; the answer is taken from {taken} "
        "(--json: raw_answer holds the model's reply)",
        highlight=False,
    )


def print_result(out: Console, err: Console, result: AnswerResult, *, trace: bool = False) -> None:
    if trace:
        for i, notes in enumerate(result.notes, start=1):
            err.print(f"[bold]notes after worker {i}[/]\n{escape(notes)}", highlight=False)
    out.print(escape(result.answer), highlight=False)
    if (
        result.evidence and result.profile == "base" and not result.fallback
        and " ".join(result.evidence[0].text.split()) not in " ".join(result.answer.split())
    ):
        # A base model may garble what the pipeline found: the sentence itself, verbatim.
        best = result.evidence[0]
        out.print(
            f"\nEvidence ({escape(best.source)}:{best.lines[0]}-{best.lines[1]}): \u201c{escape(best.text)}\u201d",
            highlight=False,
        )
    warn_fallback(err, result)
    if result.citations:
        sources = ", ".join(
            f"{c.source}:{c.lines[0]}-{c.lines[1]}" for c in result.citations[:8]
        )
        more = f" and {len(result.citations) - 8} more" if len(result.citations) > 8 else ""
        err.print(f"[dim]sources: {escape(sources)}{more}[/]", highlight=False)
    u = result.usage
    err.print(
        f"[dim]{u.calls} calls ({u.cached_calls} cached), {u.prompt_tokens:,} prompt + "
        f"{u.completion_tokens:,} completion tokens, {result.timings.get('total_s', 0):.1f}s[/]",
        highlight=False,
    )


def show_result(c: Any, result: AnswerResult, *, trace: bool = False) -> None:
    """An ask or summarize result on the command line: `--json`, or the answer on stdout
    and its sources on stderr; either way a fallback says so on stderr."""
    if c.json:
        c.emit_json(result_json(result, trace=trace))
        warn_fallback(c.err, result)
    else:
        print_result(c.out, c.err, result, trace=trace)
