"""The Chain-of-Agents manager: answers the question (or writes the summary) from the notes.

It never sees the document, only the last worker's notes (or, in the hierarchical
strategy, the final notes of every group, which it merges). A plain object: prompt
template + model in, `ManagerResult` out.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from pydantic import BaseModel, ConfigDict

from ..aio import run_sync
from ..llm.base import Completion, CompletionRequest, Model
from ..llm.profiles import ModelProfile, profile_of
from ..prompts import PromptTemplate, load_prompt
from ..tokens import TokenCounter
from .cleaning import clean_reply
from .evidence import Mode, is_grounded
from .extractive import book_summary, question_answer, repository_summary
from .notes import Notes, render_entries
from .worker import (
    acomplete_or_empty,
    check_answered,
    checked_request_tokens,
    focus_values,
    with_seed,
)

MANAGER_PROMPTS: dict[str, str] = {
    "question": "manager_question",
    "book": "manager_book",
    "repository": "manager_repository",
}

DEFAULT_SUMMARY_WORDS = 200
"""A summary length the embedded model writes in seconds and a reader takes in at a glance."""

TOKENS_PER_WORD = 1.4
"""English prose runs about 1.3 tokens a word; a little more leaves room to finish."""


COMPLETION_SEEDS: dict[str, str] = {"repository": "This repository"}
"""Words the completion rendering starts the manager's answer with (see worker.COMPLETION_SEEDS)."""


def summary_tokens(words: int) -> int:
    """Output tokens to ask for when the summary should have about `words` words."""
    return int(words * TOKENS_PER_WORD) + 32


class ManagerResult(BaseModel):
    """The final answer, with the notes it was written from and its model call."""

    model_config = ConfigDict(frozen=True)

    answer: str
    notes_text: str
    raw: str
    completion: Completion
    prompt_tokens: int
    fallback: bool = False
    """True when the answer was taken from the notes instead of the model: the model wrote
    nothing, or (on the `base` profile only) something the notes do not support (a small
    base model often answers from its own imagination). Their most relevant evidence
    (question mode) or an extractive summary of the notes (summary modes)."""
    grounded: bool | None = None
    """Whether the model's own answer keeps to the notes (None: it wrote nothing)."""


_REFUSAL = re.compile(
    r"\b(?:does not|doesn't|do not|don't|did not|didn't|cannot|can't|could not|is not|isn't|are not|aren't|not)\b"
    r"[^.!?\n]{0,60}?\b(?:say|says|said|mention\w*|state\w*|contain\w*|specif\w*|provide\w*|include\w*|"
    r"answer\w*|give\w*|tell\w*|found|know|known|clear|enough)\b",
    re.IGNORECASE,
)


_MATERIAL = re.compile(
    r"\b(?:document|text|notes?|passages?|context|story|article|book|material|source|report|"
    r"information|repository|code)\b|^\s*(?:I|we)\b",
    re.IGNORECASE,
)


def is_refusal(answer: str) -> bool:
    """An answer that says the material does not hold the answer ("The document does not
    say ...", "I cannot tell from the notes"): it claims no fact, so there is nothing in
    it to ground."""
    return len(answer.split()) <= 40 and bool(_REFUSAL.search(answer)) and bool(_MATERIAL.search(answer))


def answer_grounded(answer: str, notes_text: str) -> bool | None:
    """Whether `answer` keeps to `notes_text`: a refusal always does; None for no answer."""
    if not answer:
        return None
    if is_refusal(answer):
        return True
    return is_grounded(answer, sources=[notes_text]) if notes_text else False


def merge_group_notes(
    groups: Sequence[Notes], *, cap: int, counter: TokenCounter, mode: Mode
) -> str:
    """One text from the final notes of several chains, each labelled, within `cap` tokens."""
    live = [g for g in groups if g.entries]
    if not live:
        return ""
    if len(live) == 1:
        if live[0].tokens <= cap:
            return live[0].text
        return render_entries(live[0].entries, cap=cap, counter=counter, mode=mode)[1]
    share = max(1, cap // len(live)) - 8
    blocks = []
    for i, group in enumerate(live, start=1):
        text = group.text
        if group.tokens > share:
            text = render_entries(group.entries, cap=share, counter=counter, mode=mode)[1]
        if text:
            blocks.append(f"Part {i} of {len(live)}:\n{text}")
    return "\n\n".join(blocks)


class ManagerAgent:
    """Answers from notes; `max_tokens` bounds its answer, `window` is checked before the call."""

    def __init__(
        self,
        model: Model,
        *,
        mode: Mode,
        max_tokens: int,
        counter: TokenCounter,
        notes_cap: int,
        window: int | None = None,
        words: int | None = None,
        focus: str | None = None,
        template: PromptTemplate | None = None,
    ) -> None:
        self.model = model
        self.mode: Mode = mode
        self.max_tokens = max_tokens
        self.counter = counter
        self.notes_cap = notes_cap
        self.window = window
        self.words = words or DEFAULT_SUMMARY_WORDS
        self.focus = focus
        self.template = template or load_prompt(MANAGER_PROMPTS[mode])
        self.profile: ModelProfile = profile_of(model)
        self.seed = COMPLETION_SEEDS.get(mode, "") if self.profile.completion_style else ""

    def notes_text(self, groups: Sequence[Notes]) -> str:
        return merge_group_notes(groups, cap=self.notes_cap, counter=self.counter, mode=self.mode)

    def request(self, notes_text: str, *, question: str = "") -> CompletionRequest:
        request = self.template.request(
            max_tokens=self.max_tokens + self.profile.reasoning_tokens,
            base_stops=self.profile.base_stops,
            notes=notes_text or "(the readers found nothing relevant)",
            question=question,
            words=self.words,
            seed=self.seed,
            **focus_values(self.focus),
        )
        return request

    def _check_window(self, request: CompletionRequest) -> int:
        return checked_request_tokens(
            request, self.counter, self.window, agent="manager", model=self.model.name
        )

    def _finish(
        self, groups: Sequence[Notes], notes_text: str, request: CompletionRequest,
        completion: Completion, tokens: int,
    ) -> ManagerResult:
        answer = clean_reply(
            completion.text.rstrip() and with_seed(self.seed, completion.text),
            self.profile,
            prompt=request.prompt,
            max_tokens=self.max_tokens,
            counter=self.counter,
            truncated=completion.finish_reason == "length",
        )
        check_answered(self.model, completion, answer, request)
        grounded = answer_grounded(answer, notes_text)
        fallback = False
        if not answer or (self.profile.enforce_grounding and notes_text and not grounded):
            answer, fallback = self._from_notes(groups), True
        return ManagerResult(
            answer=answer, notes_text=notes_text, raw=completion.text, completion=completion,
            prompt_tokens=tokens, fallback=fallback, grounded=grounded,
        )

    def _from_notes(self, groups: Sequence[Notes]) -> str:
        """An extractive answer from the notes (see agents.extractive)."""
        entries = [e for g in groups for e in g.entries]
        if self.mode == "question":
            return question_answer(entries)
        if self.mode == "repository":
            return repository_summary(entries, self.words)
        return book_summary(entries, self.words)

    def run(self, groups: Sequence[Notes], *, question: str = "") -> ManagerResult:
        """Synchronous `arun` (through `longdoc.aio.run_sync`: a running loop is fine)."""
        return run_sync(self.arun(groups, question=question))

    async def arun(self, groups: Sequence[Notes], *, question: str = "") -> ManagerResult:
        """Answer `question` (or summarize) from the final notes of each chain in `groups`."""
        notes_text = self.notes_text(groups)
        request = self.request(notes_text, question=question)
        tokens = self._check_window(request)
        completion = await acomplete_or_empty(self.model, request)
        return self._finish(groups, notes_text, request, completion, tokens)
