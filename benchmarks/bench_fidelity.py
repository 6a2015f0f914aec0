"""Fidelity on the `instruct` profile: does a capable reader's answer survive the pipeline?

    python benchmarks/bench_fidelity.py [--limit 30] [--window 4096] [--sets quality,natural_question]
        [--strategies chain,hierarchical,xl3m,truncate] [--no-write]

A scripted capable chat model answers the real L-Eval QA questions in
../shared/data/leval/ (quality, natural_question), served over HTTP by longdoc's
OpenAI-compatible test server, so every strategy runs its real prompts, budgets and
cleaning. The reader is perfect by construction:

- a worker writes, in its own bullet format ("- ..." lines), the sentences of its part that
  hold a gold answer (exact or normalised match), after the earlier notes it was given;
- the answerer (manager, xl3m's answer, the truncate baseline) replies with the gold answer
  (the option letter, e.g. "(B)", for multiple choice) when a gold answer is in its prompt
  outside the question, else "The document does not say.".

So whatever is lost is lost by longdoc. Per set and strategy (chain, hierarchical, xl3m
with the lexical scorer, truncate as `longdoc eval qa` runs it): evidence recall (a gold
answer reached what the answer was written from: `evals.qa.run_strategy`'s evidence, scored
by `evals.metrics.evidence_recall`), answer accuracy over the same questions (choice
accuracy, or exact match), questions lost between the two, and the share of final answers
returned exactly as the model wrote them (the result's answer against the answerer's reply
as the server recorded it). Target on `instruct`: 100% as written and accuracy equal to
evidence recall. The table goes to benchmarks/RESULTS.md ("fidelity"; --no-write skips it).
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _results import markdown_table, write_section

from longdoc.agents.worker import WORKER_PROMPTS
from longdoc.config import Settings
from longdoc.errors import LongdocError
from longdoc.evals.metrics import (
    choice_accuracy,
    evidence_recall,
    exact_match,
    normalize_answer,
    option_letter,
    parse_options,
)
from longdoc.evals.qa import run_strategy
from longdoc.evals.qa_data import QAItem, load_qa
from longdoc.llm import load_model
from longdoc.llm.base import CompletionRequest
from longdoc.prompts import load_prompt
from longdoc.testing import OpenAITestServer, RecordedRequest

LEVAL = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "leval"
SETS = ("quality", "natural_question")
STRATEGIES = ("chain", "hierarchical", "xl3m", "truncate")
REFUSAL = "The document does not say."
NOTHING = "- Nothing in this part bears on the question."

BULLET_WORDS = 40
"""Words a note keeps of an overlong sentence (a table row, a run-on paragraph): a window
around the gold answer, as a reader would quote it."""

NOTE_BUDGET = 0.6
"""Share of a worker call's max_tokens its notes take, in words (a token is ~0.75 words):
a capable model writes within its output limit rather than being cut mid-line."""

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


# --------------------------------------------------------------------------- gold answers


def gold_texts(item: QAItem) -> list[str]:
    """What a sentence must hold to answer the question: the gold option's text for a
    multiple-choice question, else the gold answers."""
    options = parse_options(item.question)
    if options:
        letter = option_letter(item.answers[0], options)
        return [options[letter]] if letter else []
    return [a for a in item.answers if a.strip()]


def gold_reply(item: QAItem, present: str) -> str:
    """The answer a capable reader writes: the option letter, or the gold answer found."""
    options = parse_options(item.question)
    if options:
        letter = option_letter(item.answers[0], options)
        return f"({letter})"
    return present


def holds(text: str, gold: str) -> bool:
    normalized = normalize_answer(gold)
    return bool(normalized) and f" {normalized} " in f" {normalize_answer(text)} "


def quoted(sentence: str, gold: str) -> str:
    """`sentence`, or its BULLET_WORDS-word window that holds `gold` when it is longer."""
    words = sentence.split()
    if len(words) <= BULLET_WORDS + 10:
        return sentence
    for start in range(0, len(words), BULLET_WORDS // 4):
        window = " ".join(words[start : start + BULLET_WORDS])
        if holds(window, gold):
            return window
    return sentence


# --------------------------------------------------------------------------- the reader


def _worker_systems() -> tuple[str, ...]:
    """The opening of each worker prompt's system message, as the code under test has it."""
    starts = []
    for name in WORKER_PROMPTS.values():
        system = (load_prompt(name).system or "").strip()
        if system:
            starts.append(system[:80])
    return tuple(starts)


@dataclass
class ScriptedReader:
    """The test server's reply function for one question at a time (`start(item)`)."""

    item: QAItem | None = None
    golds: list[str] = field(default_factory=list)
    emitted: set[str] = field(default_factory=set)
    worker_systems: tuple[str, ...] = field(default_factory=_worker_systems)

    def start(self, item: QAItem) -> None:
        self.item = item
        self.golds = gold_texts(item)
        self.emitted = set()

    def is_worker(self, request: CompletionRequest) -> bool:
        return any(
            m.role == "system" and m.content.strip().startswith(self.worker_systems)
            for m in request.messages
        )

    def __call__(self, request: CompletionRequest) -> str:
        if self.is_worker(request):
            return self.notes(request)
        return self.answer(request)

    def _material(self, request: CompletionRequest) -> str:
        """What the request gives to read: its user text without the question."""
        assert self.item is not None
        text = "\n".join(m.content for m in request.messages if m.role != "system") or (request.prompt or "")
        text = text.replace(self.item.question, "\n")
        question_lines = {line.strip() for line in self.item.question.splitlines() if line.strip()}
        return "\n".join(line for line in text.splitlines() if line.strip() not in question_lines)

    def notes(self, request: CompletionRequest) -> str:
        """The earlier notes it was given (its own bullet lines, in order), then a bullet for
        each new sentence of its material that holds a gold answer. Sentences are read
        across hard line wraps (paragraphs joined), whether or not the prompt reflowed them."""
        earlier: list[str] = []
        rest: list[str] = []
        for line in self._material(request).splitlines():
            if line.strip() in self.emitted:
                if line.strip() not in earlier:
                    earlier.append(line.strip())
            else:
                rest.append(line)
        known = {normalize_answer(b) for b in earlier}
        new: list[str] = []
        # A bullet line (its own notes, cut short, or the pipeline's) is one item; prose lines
        # are joined into paragraphs.
        blocks = re.split(r"\n\s*\n|\n(?=\s*[-*•]\s)", "\n".join(rest))
        for paragraph in blocks:
            for sentence in _SENTENCE_END.split(" ".join(paragraph.split())):
                gold = next((g for g in self.golds if holds(sentence, g)), None)
                if gold is None:
                    continue
                bullet = "- " + quoted(sentence.lstrip("-*• ").strip(), gold)
                if normalize_answer(bullet) not in known:
                    known.add(normalize_answer(bullet))
                    new.append(bullet)
        written, words = [], 0
        for bullet in earlier + new:  # within its output budget, as a capable model keeps to it
            if words + len(bullet.split()) > NOTE_BUDGET * request.max_tokens:
                break
            written.append(bullet)
            words += len(bullet.split())
        self.emitted.update(written)
        return "\n".join(written) or NOTHING

    def answer(self, request: CompletionRequest) -> str:
        assert self.item is not None
        material = self._material(request)
        for gold in self.golds:
            if holds(material, gold):
                return gold_reply(self.item, gold)
        return REFUSAL


# --------------------------------------------------------------------------- one run


@dataclass
class Outcome:
    strategy: str
    answerable: bool
    """A gold answer occurs in the document (evidence recall is defined)."""
    recall: float | None
    correct: float
    as_written: bool
    fallback: bool | None
    """None where the result does not say (an AnswerResult without `fallback`)."""
    error: str | None = None


def last_answer(server: OpenAITestServer, reader: ScriptedReader) -> RecordedRequest | None:
    from longdoc.testing.openai_payloads import as_request

    answers = [
        r for r in server.requests
        if r.method == "POST" and r.body is not None and r.reply is not None
        and not reader.is_worker(as_request(r.path.endswith("chat/completions"), r.body))
    ]
    return answers[-1] if answers else None


def run_one(item: QAItem, strategy: str, model, server: OpenAITestServer, reader: ScriptedReader,
            settings: Settings, window: int) -> Outcome:
    server.reset()
    reader.start(item)
    golds = gold_texts(item)
    try:
        result, evidence, _ = run_strategy(strategy, item, model, settings=settings, window=window, scorer="lexical")
    except LongdocError as exc:
        return Outcome(strategy, False, None, 0.0, False, False, error=f"{type(exc).__name__}: {exc}")
    recall = evidence_recall(golds, item.context, evidence) if golds else None
    if parse_options(item.question):
        correct = choice_accuracy(result.answer, item.answers[0], item.question) or 0.0
    else:
        correct = exact_match(result.answer, item.answers)
    replied = last_answer(server, reader)
    as_written = replied is not None and result.answer.strip() == (replied.reply or "").strip()
    return Outcome(
        strategy, recall is not None, recall, correct, as_written, getattr(result, "fallback", None),
    )


# --------------------------------------------------------------------------- the table


def code_version() -> str:
    """The commit measured (with `+changes` when the work tree differs from it)."""
    root = Path(__file__).resolve().parents[1]
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True,
                                text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=root,
                               capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return commit + ("+changes" if dirty else "")


def pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.0f}"


def summary_rows(name: str, outcomes: list[Outcome], strategies: list[str]) -> list[list[object]]:
    rows = []
    for strategy in strategies:
        mine = [o for o in outcomes if o.strategy == strategy]
        ran = [o for o in mine if o.error is None]
        answerable = [o for o in ran if o.answerable]
        recall = sum(o.recall or 0.0 for o in answerable) / len(answerable) if answerable else None
        accuracy = sum(o.correct for o in answerable) / len(answerable) if answerable else None
        lost = sum(1 for o in answerable if (o.recall or 0) > 0 and not o.correct)
        written = sum(o.as_written for o in ran) / len(ran) if ran else None
        reported = all(o.fallback is not None for o in ran)
        fallbacks = sum(bool(o.fallback) for o in ran) if reported else "n/a"
        rows.append([
            name, strategy, f"{len(ran)}/{len(mine)}", len(answerable), pct(recall), pct(accuracy), lost,
            pct(written), fallbacks,
        ])
    return rows


HEADERS = [
    "set", "strategy", "ran", "answerable", "evidence recall %", "accuracy %", "lost",
    "as written %", "fallbacks",
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--limit", type=int, default=30, help="Questions per set (default 30).")
    parser.add_argument("--window", type=int, default=4096)
    parser.add_argument("--sets", default=",".join(SETS))
    parser.add_argument("--strategies", default=",".join(STRATEGIES))
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--no-write", action="store_true", help="Print the table only.")
    args = parser.parse_args()
    sets = [s for s in args.sets.split(",") if s]
    strategies = [s for s in args.strategies.split(",") if s]
    reader = ScriptedReader()
    started = time.perf_counter()
    table: list[list[object]] = []
    errors: list[str] = []
    with OpenAITestServer(model="capable-reader", context_window=10**7, reply=reader) as server:
        settings = Settings(
            model=server.model, base_url=server.url, window=args.window, concurrency=args.concurrency,
            cache=False, cache_dir=Path(tempfile.mkdtemp(prefix="fidelity-cache-")), max_retries=0, timeout=60.0,
        )
        model = load_model(settings)
        profile = getattr(getattr(model, "profile", None), "name", "?")
        for name in sets:
            items = load_qa(LEVAL / f"{name}.jsonl", limit=args.limit)
            outcomes = []
            for n, item in enumerate(items, start=1):
                for strategy in strategies:
                    outcome = run_one(item, strategy, model, server, reader, settings, args.window)
                    outcomes.append(outcome)
                    if outcome.error:
                        errors.append(f"{name} {item.id} {strategy}: {outcome.error[:160]}")
                print(f"{name}: {n}/{len(items)}", file=sys.stderr, flush=True)
            table.extend(summary_rows(name, outcomes, strategies))
    seconds = time.perf_counter() - started
    rendered = markdown_table(HEADERS, table)
    print(rendered)
    for line in errors:
        print(f"error: {line}", file=sys.stderr)
    if args.no_write:
        return
    body = (
        f"Scripted capable reader (`benchmarks/bench_fidelity.py`) over the first {args.limit} questions of "
        f"each L-Eval set, served by the OpenAI-compatible test server (chat endpoint, profile "
        f"`{profile}`), window {args.window}, xl3m with the lexical scorer, code at {code_version()}; "
        f"{seconds:.0f} s. Workers note the "
        "sentences holding a gold answer as bullets; the answerer replies with the gold answer (the letter "
        "for multiple choice) when its prompt holds one, else a refusal. *answerable*: a gold answer occurs "
        "in the document; *evidence recall* and *accuracy* over those; *lost*: the evidence held the gold "
        "answer, the final answer did not; *as written*: the final answer is the answerer's reply as the "
        "server sent it (all questions); *fallbacks*: answers the result marks as replaced (n/a: the result "
        "has no `fallback` field). Target: 100% as written, accuracy = evidence recall, nothing lost.\n\n"
        + rendered
    )
    if errors:
        body += f"\n\n{len(errors)} runs failed (first: {errors[0]})."
    write_section("fidelity", body)


if __name__ == "__main__":
    main()
